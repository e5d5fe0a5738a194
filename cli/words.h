// What people type for skills and statuses, read the same way by the CLI, the terminal tray and
// the desktop tray; and how a wait is said back to them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"

namespace backline::cli {

// A skill requirement (`--skill billing:3`, `/transfer billing:3`): NAME, or NAME:LEVEL with
// LEVEL the minimum proficiency (1 if not given). INVALID_ARGUMENT saying the form to use for
// anything else.
absl::StatusOr<v1::SkillRequirement> ParseSkillSpec(absl::string_view spec);

// A presence status by its name in any case, `-` or `_` between words (`on-call`, `ON_CALL`).
// INVALID_ARGUMENT listing the statuses for anything else.
absl::StatusOr<v1::PresenceStatus> ParseStatusWord(absl::string_view word);

// An expected wait in words: "less than a second to wait", "about 42 s to wait", "about 3 min
// to wait" (seconds up to a minute and a half, whole minutes beyond).
std::string ExpectedWaitWords(absl::Duration wait);

}  // namespace backline::cli
