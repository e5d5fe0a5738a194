// What people type for skills and statuses, read the same way by the CLI, the terminal tray and
// the desktop tray; and how a wait is said back to them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"

namespace backline::cli {

// A skill requirement (`--skill billing:3`, `/transfer billing:3`): NAME, or NAME:LEVEL with
// LEVEL the minimum proficiency (1 if not given). INVALID_ARGUMENT saying the form to use for
// anything else.
absl::StatusOr<v1::SkillRequirement> ParseSkillSpec(absl::string_view spec);

// A command typed in an escalation's thread instead of a message: `/resolve [note]` (the note
// is the resolution), `/transfer SKILL[:LEVEL]…` (back to the queue needing those skills),
// `/invite PERSON` (another expert into the thread). A line starting with `//` is a message
// starting with `/`.
struct ThreadCommand {
  enum Kind { kResolve, kTransfer, kInvite };
  Kind kind = kResolve;
  std::string text;  // kResolve: the note; kInvite: the person
  std::vector<v1::SkillRequirement> skills;  // kTransfer
};
inline constexpr absl::string_view kThreadCommandUsage =
    "commands: /resolve [note], /transfer SKILL[:LEVEL]…, /invite PERSON; //text sends /text";
// True when `line` is a command (starts with one `/`).
bool IsThreadCommand(absl::string_view line);
// INVALID_ARGUMENT saying what to type for an unknown or malformed command.
absl::StatusOr<ThreadCommand> ParseThreadCommand(absl::string_view line);
// The message a line that is not a command sends: `//text` sends `/text`.
std::string MessageOfLine(absl::string_view line);

// A presence status by its name in any case, `-` or `_` between words (`on-call`, `ON_CALL`).
// INVALID_ARGUMENT listing the statuses for anything else.
absl::StatusOr<v1::PresenceStatus> ParseStatusWord(absl::string_view word);

// An expected wait in words: "less than a second to wait", "about 42 s to wait", "about 3 min
// to wait" (seconds up to a minute and a half, whole minutes beyond).
std::string ExpectedWaitWords(absl::Duration wait);

}  // namespace backline::cli
