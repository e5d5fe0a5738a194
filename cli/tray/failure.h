// Failures of calls in a few words, for people: the CLI's error lines and the tray's notices.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace backline::cli::tray {

// What went wrong when a call never reached a server ("connection refused", "no such host",
// "the connection broke"...), or "" when the status message is a server's own answer. gRPC's
// messages say it at length ("failed to connect to all addresses; last error: UNKNOWN:
// ipv4:127.0.0.1:7400: Failed to connect to remote host: Connection refused").
std::string TransportFailure(absl::string_view message);

}  // namespace backline::cli::tray
