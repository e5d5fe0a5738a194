#include "cli/skill_spec.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace backline::cli {

absl::StatusOr<v1::SkillRequirement> ParseSkillSpec(absl::string_view spec) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int level = 1;
  if (parts[0].empty() || parts.size() > 2 ||
      (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &level))) {
    return absl::InvalidArgumentError(absl::StrCat(spec, ": use NAME or NAME:LEVEL"));
  }
  v1::SkillRequirement s;
  s.set_skill(parts[0]);
  s.set_min_proficiency(level);
  return s;
}

}  // namespace backline::cli
