#include "cli/words.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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

absl::StatusOr<v1::PresenceStatus> ParseStatusWord(absl::string_view word) {
  std::string name = absl::AsciiStrToUpper(word);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  v1::PresenceStatus status;
  if (v1::PresenceStatus_Parse("PRESENCE_STATUS_" + name, &status) &&
      status != v1::PRESENCE_STATUS_UNSPECIFIED) {
    return status;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", word, "\" is not a status: available, on_call, wrap_up, break, meeting, offline"));
}

std::string ExpectedWaitWords(absl::Duration wait) {
  const int64_t seconds = std::llround(absl::ToDoubleSeconds(wait));
  if (seconds < 1) return "less than a second to wait";
  if (seconds <= 90) return absl::StrCat("about ", seconds, " s to wait");
  return absl::StrCat("about ", (seconds + 30) / 60, " min to wait");
}

}  // namespace backline::cli
