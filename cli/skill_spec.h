// A skill requirement as people type it, shared by the CLI (`--skill billing:3`) and the tray
// (`/transfer billing:3`): NAME, or NAME:LEVEL with LEVEL the minimum proficiency (1 if not
// given).
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backline/v1/common.pb.h"

namespace backline::cli {

// INVALID_ARGUMENT saying the form to use for anything else.
absl::StatusOr<v1::SkillRequirement> ParseSkillSpec(absl::string_view spec);

}  // namespace backline::cli
