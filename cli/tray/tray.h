// `backline tray`: the full-screen terminal tray of a senior agent or team leader. It keeps the
// person's EventFeed open (so it reconnects and resumes by itself, showing every event once),
// shows live offers with their countdown, the person's threads with unread counts, one thread
// to read and answer, and the person's presence; keys accept, decline, open, reply and set the
// status. The state and layout live in TrayModel, the terminal in TrayScreen; this file wires
// them to the Client.
//
// Threads: the caller's thread runs the screen and the model; the feed calls back on its own
// thread and one worker thread makes the calls to the server, both handing their results to
// the caller's thread through a queue, so a slow or unreachable server never freezes the keys.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "backline/client.h"
#include "cli/tray/tray_screen.h"

namespace backline::cli::tray {

// Blocks SIGWINCH in the calling thread, so that threads started after it (the client's, the
// feed's) leave the signal to the screen's thread, which RunTray unblocks it in. Call before
// creating the Client.
void ReserveResizeSignal();

// Runs the tray for the person `me` (their presence, as GetPresence answered) on `screen` until
// they quit (q, Ctrl-C) or SIGTERM/SIGHUP/SIGINT arrive, then gives the terminal back. Returns
// OK, or the error that ended the person's event feed for good (an expired or revoked token,
// removal from the roster).
absl::Status RunTray(Client& client, const v1::Presence& me, std::unique_ptr<TrayScreen> screen);

}  // namespace backline::cli::tray
