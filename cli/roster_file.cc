#include "cli/roster_file.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/principal.h"

namespace backline::cli {
namespace {

using nlohmann::json;

absl::Status LineError(int line, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

absl::StatusOr<v1::Person> ParsePerson(const json& j, int line) {
  if (!j.is_object()) return LineError(line, "not a JSON object");
  static const char* const kKnown[] = {"id",       "name",      "role",   "team",  "site",
                                       "capacity", "languages", "skills", "mentor"};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return LineError(line, absl::StrCat("unknown field \"", key, "\""));
  }
  v1::Person p;
  auto str = [&](const char* name, std::string* out) -> absl::Status {
    auto it = j.find(name);
    if (it == j.end()) return absl::OkStatus();
    if (!it->is_string()) return LineError(line, absl::StrCat(name, ": must be a string"));
    *out = it->get<std::string>();
    return absl::OkStatus();
  };
  std::string role;
  for (auto [name, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"id", p.mutable_id()},
           {"name", p.mutable_display_name()},
           {"team", p.mutable_team()},
           {"site", p.mutable_site()},
           {"mentor", p.mutable_mentor()},
           {"role", &role}}) {
    if (absl::Status st = str(name, out); !st.ok()) return st;
  }
  if (p.id().empty()) return LineError(line, "id: required");
  p.set_role(ParseRole(role));
  if (p.role() == v1::ROLE_UNSPECIFIED) {
    return LineError(line, absl::StrCat("role: \"", role,
                                        "\" is not agent, senior, team_leader, supervisor, bot "
                                        "or admin"));
  }
  if (auto it = j.find("capacity"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < -1000 || it->get<int64_t>() > 1000) {
      return LineError(line, "capacity: must be an integer");
    }
    p.set_capacity(static_cast<int>(it->get<int64_t>()));
  } else {
    p.set_capacity(IsHelperRole(p.role()) ? 2 : 0);
  }
  if (auto it = j.find("languages"); it != j.end()) {
    if (!it->is_array()) return LineError(line, "languages: must be a list of language tags");
    for (const auto& l : *it) {
      if (!l.is_string()) return LineError(line, "languages: must be a list of language tags");
      p.add_languages(l.get<std::string>());
    }
  }
  if (auto it = j.find("skills"); it != j.end()) {
    if (!it->is_object()) {
      return LineError(line, "skills: must map skill names to proficiency 1..5");
    }
    for (const auto& [name, level] : it->items()) {
      if (!level.is_number_integer() || level.get<int64_t>() < -1000 ||
          level.get<int64_t>() > 1000) {
        return LineError(line, absl::StrCat("skills.", name, ": proficiency must be 1..5"));
      }
      v1::Skill* s = p.add_skills();
      s->set_name(name);
      s->set_proficiency(static_cast<int>(level.get<int64_t>()));
    }
  }
  return p;
}

}  // namespace

absl::StatusOr<RosterFile> ParseRosterFile(const std::string& text) {
  RosterFile file;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    json j;
    try {
      j = json::parse(trimmed.begin(), trimmed.end());
    } catch (const json::exception& e) {
      return LineError(line_no, absl::StrCat("not valid JSON (", e.what(), ")"));
    }
    auto person = ParsePerson(j, line_no);
    if (!person.ok()) return person.status();
    *file.request.add_people() = std::move(*person);
    file.lines.push_back(line_no);
  }
  return file;
}

std::string WithLineNumbers(const std::string& message, const RosterFile& file,
                            const std::string& path) {
  // The server names the entry as `people[N]`.
  const size_t at = message.find("people[");
  if (at == std::string::npos) return message;
  const size_t close = message.find(']', at);
  int index = 0;
  if (close == std::string::npos ||
      !absl::SimpleAtoi(message.substr(at + 7, close - at - 7), &index) || index < 0 ||
      index >= static_cast<int>(file.lines.size())) {
    return message;
  }
  return absl::StrCat(path, " line ", file.lines[index], message.substr(close + 1));
}

}  // namespace backline::cli
