#include "cli/words.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

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

bool IsThreadCommand(absl::string_view line) {
  return absl::StartsWith(line, "/") && !absl::StartsWith(line, "//");
}

std::string MessageOfLine(absl::string_view line) {
  if (absl::StartsWith(line, "//")) line.remove_prefix(1);
  return std::string(line);
}

absl::StatusOr<ThreadCommand> ParseThreadCommand(absl::string_view line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  const std::string command = words.empty() ? "" : words[0];
  ThreadCommand c;
  if (command == "/resolve") {
    c.kind = ThreadCommand::kResolve;
    c.text =
        std::string(absl::StripAsciiWhitespace(line.substr(line.find(command) + command.size())));
  } else if (command == "/invite") {
    if (words.size() != 2) {
      return absl::InvalidArgumentError("/invite: name one person, e.g. /invite mei");
    }
    c.kind = ThreadCommand::kInvite;
    c.text = words[1];
  } else if (command == "/transfer") {
    c.kind = ThreadCommand::kTransfer;
    for (size_t i = 1; i < words.size(); ++i) {
      auto skill = ParseSkillSpec(words[i]);
      if (!skill.ok())
        return absl::InvalidArgumentError(absl::StrCat("/transfer ", skill.status().message()));
      c.skills.push_back(*skill);
    }
    if (c.skills.empty()) {
      return absl::InvalidArgumentError(
          "/transfer: name the skills it needs, e.g. /transfer billing:3");
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(command, ": unknown; ", kThreadCommandUsage));
  }
  return c;
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
