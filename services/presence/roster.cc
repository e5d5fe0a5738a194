#include "services/presence/roster.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/principal.h"
#include "services/common/validation.h"

namespace backline::presence {
namespace {

absl::Status CheckPerson(v1::Person* p) {
  BL_RETURN_IF_ERROR(CheckName("id", p->id()));
  if (p->display_name().empty()) p->set_display_name(p->id());
  BL_RETURN_IF_ERROR(CheckText("display_name", p->display_name(), 1, 200));
  if (!v1::Role_IsValid(p->role()) || p->role() == v1::ROLE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("role: ", p->role(),
                     " is not a role (agent, senior, team_leader, supervisor, bot, admin)"));
  }
  BL_RETURN_IF_ERROR(CheckName("team", p->team()));
  BL_RETURN_IF_ERROR(CheckName("site", p->site()));
  if (p->skills_size() > kMaxSkillsPerPerson) {
    return absl::InvalidArgumentError(
        absl::StrCat("skills: more than ", kMaxSkillsPerPerson, " skills"));
  }
  std::set<std::string> skill_names;
  for (int i = 0; i < p->skills_size(); ++i) {
    const v1::Skill& s = p->skills(i);
    BL_RETURN_IF_ERROR(CheckName(absl::StrCat("skills[", i, "].name"), s.name()));
    if (s.proficiency() < 1 || s.proficiency() > 5) {
      return absl::InvalidArgumentError(
          absl::StrCat("skills[", i, "].proficiency: ", s.proficiency(), " is outside 1..5"));
    }
    if (!skill_names.insert(s.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("skills[", i, "].name: \"", s.name(), "\" is listed twice"));
    }
  }
  std::sort(p->mutable_skills()->begin(), p->mutable_skills()->end(),
            [](const v1::Skill& a, const v1::Skill& b) { return a.name() < b.name(); });
  if (p->languages_size() > kMaxLanguagesPerPerson) {
    return absl::InvalidArgumentError(
        absl::StrCat("languages: more than ", kMaxLanguagesPerPerson, " languages"));
  }
  std::set<std::string> langs;
  for (int i = 0; i < p->languages_size(); ++i) {
    std::string canonical;
    BL_RETURN_IF_ERROR(
        CanonicalLanguage(absl::StrCat("languages[", i, "]"), p->languages(i), &canonical));
    langs.insert(std::move(canonical));
  }
  p->clear_languages();
  for (const std::string& l : langs) p->add_languages(l);
  if (!p->mentor().empty()) {
    BL_RETURN_IF_ERROR(CheckName("mentor", p->mentor()));
    if (p->mentor() == p->id()) {
      return absl::InvalidArgumentError("mentor: a person cannot mentor themselves");
    }
  }
  if (p->capacity() < 0 || p->capacity() > kMaxCapacity) {
    return absl::InvalidArgumentError(
        absl::StrCat("capacity: ", p->capacity(), " is outside 0..", kMaxCapacity));
  }
  return absl::OkStatus();
}

absl::Status AtEntry(int index, const v1::Person& p, const absl::Status& st) {
  const std::string who = IsValidName(p.id()) ? absl::StrCat(" (id \"", p.id(), "\")") : "";
  return absl::Status(st.code(), absl::StrCat("people[", index, "]", who, ": ", st.message()));
}

}  // namespace

absl::Status ValidateRoster(google::protobuf::RepeatedPtrField<v1::Person>* people) {
  if (people->size() > kMaxRosterSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("people: ", people->size(), " entries is over the limit of ", kMaxRosterSize));
  }
  std::set<std::string> ids;
  for (int i = 0; i < people->size(); ++i) {
    v1::Person* p = people->Mutable(i);
    if (absl::Status st = CheckPerson(p); !st.ok()) return AtEntry(i, *p, st);
    if (!ids.insert(p->id()).second) {
      return AtEntry(i, *p, absl::InvalidArgumentError("id: listed twice in the roster"));
    }
  }
  for (int i = 0; i < people->size(); ++i) {
    const v1::Person& p = people->Get(i);
    if (!p.mentor().empty() && ids.count(p.mentor()) == 0) {
      return AtEntry(i, p,
                     absl::InvalidArgumentError(
                         absl::StrCat("mentor: \"", p.mentor(), "\" is not on the roster")));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> LanguageIndexTags(const v1::Person& person) {
  std::set<std::string> tags;
  for (const std::string& tag : person.languages()) {
    for (size_t dash = tag.size(); dash != std::string::npos; dash = tag.rfind('-', dash - 1)) {
      tags.insert(tag.substr(0, dash));
      if (dash == 0) break;
    }
  }
  return {tags.begin(), tags.end()};
}

std::string EncodeSkills(const v1::Person& person) {
  std::string out = ";";
  for (const v1::Skill& s : person.skills()) {
    absl::StrAppend(&out, s.name(), ":", s.proficiency(), ";");
  }
  return out;
}

std::string EncodeLanguages(const v1::Person& person) {
  std::string out = ";";
  for (const std::string& tag : LanguageIndexTags(person)) absl::StrAppend(&out, tag, ";");
  return out;
}

std::vector<IndexEntry> IndexEntriesFor(const v1::Person& person, const store::Keys& keys) {
  std::vector<IndexEntry> out;
  for (const v1::Skill& s : person.skills()) {
    out.push_back({keys.SkillIndex(s.name()), true, static_cast<double>(s.proficiency())});
  }
  for (const std::string& tag : LanguageIndexTags(person)) {
    out.push_back({keys.LanguageIndex(tag), false, 0});
  }
  out.push_back({keys.TeamIndex(person.team()), false, 0});
  out.push_back({keys.SiteIndex(person.site()), false, 0});
  out.push_back({keys.RoleIndex(RoleName(person.role())), false, 0});
  return out;
}

std::vector<std::string> ChangedFields(const v1::Person& a, const v1::Person& b) {
  std::vector<std::string> out;
  const google::protobuf::Descriptor* d = v1::Person::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    google::protobuf::util::MessageDifferencer diff;
    for (int j = 0; j < d->field_count(); ++j) {
      if (j != i) diff.IgnoreField(d->field(j));
    }
    if (!diff.Compare(a, b)) out.push_back(f->name());
  }
  return out;
}

RosterDiff DiffRoster(const std::map<std::string, v1::Person>& current,
                      const google::protobuf::RepeatedPtrField<v1::Person>& next) {
  RosterDiff diff;
  std::set<std::string> seen;
  for (const v1::Person& p : next) {
    seen.insert(p.id());
    auto it = current.find(p.id());
    if (it == current.end()) {
      diff.added.push_back(&p);
    } else if (!google::protobuf::util::MessageDifferencer::Equals(it->second, p)) {
      diff.updated.push_back(&p);
    } else {
      ++diff.unchanged;
    }
  }
  for (const auto& [id, person] : current) {
    if (seen.count(id) == 0) diff.removed.push_back(id);
  }
  return diff;
}

}  // namespace backline::presence
