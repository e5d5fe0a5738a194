// Roster rules, free of storage and RPC: validating a whole roster, the index entries a person
// contributes (skill, language, team, site, role), and the difference between two rosters.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "backline/v1/common.pb.h"
#include "google/protobuf/repeated_field.h"
#include "services/store/keys.h"

namespace backline::presence {

inline constexpr int kMaxRosterSize = 20000;
inline constexpr int kMaxCapacity = 20;
inline constexpr int kMaxSkillsPerPerson = 64;
inline constexpr int kMaxLanguagesPerPerson = 16;

// Validates every person and the roster as a whole (unique ids, mentors on the roster) and puts
// each entry in canonical form (language casing, skills and languages sorted and unique). The
// first problem gives INVALID_ARGUMENT naming the entry and field, e.g.
// `people[3] (id "anna"): skills[0].proficiency: 6 is outside 1..5`.
absl::Status ValidateRoster(google::protobuf::RepeatedPtrField<v1::Person>* people);

// The language tags a person is indexed under: each tag and each of its prefixes
// (`zh-Hant-TW` -> `zh-Hant-TW`, `zh-Hant`, `zh`), so that an escalation in `zh` finds every
// Chinese speaker and one in `zh-Hant` only those who read Traditional Chinese.
std::vector<std::string> LanguageIndexTags(const v1::Person& person);

// The person's qualifications as stored in the person hash for Lua scripts to read:
// `;billing:4;refunds:3;` and `;da;zh;zh-Hant;` (every index tag of LanguageIndexTags).
std::string EncodeSkills(const v1::Person& person);
std::string EncodeLanguages(const v1::Person& person);

// One membership of a person in an index: a sorted-set entry (score) or a set entry.
struct IndexEntry {
  std::string key;
  bool sorted = false;
  double score = 0;
  bool operator==(const IndexEntry& o) const {
    return key == o.key && sorted == o.sorted && score == o.score;
  }
};
std::vector<IndexEntry> IndexEntriesFor(const v1::Person& person, const store::Keys& keys);

// Names of the fields of Person that differ between `a` and `b`, in field order.
std::vector<std::string> ChangedFields(const v1::Person& a, const v1::Person& b);

struct RosterDiff {
  std::vector<const v1::Person*> added;
  std::vector<const v1::Person*> updated;  // new version
  std::vector<std::string> removed;
  int unchanged = 0;
};
// `current` maps id -> person as stored; `next` is a validated roster.
RosterDiff DiffRoster(const std::map<std::string, v1::Person>& current,
                      const google::protobuf::RepeatedPtrField<v1::Person>& next);

}  // namespace backline::presence
