// Ids of the threads that exist once per pair of people or per team: derived from who they are
// between, so that opening one twice (from any instance, at the same moment) finds the same
// thread. Escalation threads take their escalation's id (`esc-x` -> `thr-x`).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace backline::chat {

// The same for (a, b) and (b, a).
std::string DirectThreadId(absl::string_view a, absl::string_view b);
std::string TeamThreadId(absl::string_view team);

}  // namespace backline::chat
