// Unit tests for services/presence/roster: roster validation, index entries and roster diffs.
#include "services/presence/roster.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "services/store/keys.h"

namespace backline::presence {
namespace {

using People = google::protobuf::RepeatedPtrField<v1::Person>;

v1::Person MakePerson(const std::string& id, v1::Role role = v1::ROLE_SENIOR,
                      std::vector<std::pair<std::string, int>> skills = {{"billing", 4}},
                      std::vector<std::string> languages = {"da"}) {
  v1::Person p;
  p.set_id(id);
  p.set_role(role);
  p.set_team("cph-billing");
  p.set_site("cph");
  for (const auto& [name, level] : skills) {
    v1::Skill* s = p.add_skills();
    s->set_name(name);
    s->set_proficiency(level);
  }
  for (const std::string& l : languages) p.add_languages(l);
  p.set_capacity(2);
  return p;
}

People Roster(std::vector<v1::Person> people) {
  People out;
  for (v1::Person& p : people) *out.Add() = std::move(p);
  return out;
}

// Validates `people` and expects INVALID_ARGUMENT with exactly `message`.
void ExpectInvalid(People people, const std::string& message) {
  absl::Status st = ValidateRoster(&people);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(st.message(), message);
}

// ---------------------------------------------------------------------------------------------
// ValidateRoster: canonical form

TEST(ValidateRosterTest, AcceptsAndCanonicalizes) {
  v1::Person anna = MakePerson("anna", v1::ROLE_SENIOR, {{"refunds", 3}, {"billing", 4}},
                               {"zh-hant-tw", "DA", "en", "da"});
  v1::Person bo = MakePerson("bo", v1::ROLE_AGENT, {}, {});
  bo.set_mentor("anna");
  bo.set_display_name("Bo Ærø");
  bo.set_capacity(0);
  People people = Roster({anna, bo});
  absl::Status st = ValidateRoster(&people);
  ASSERT_TRUE(st.ok()) << st;

  const v1::Person& a = people.Get(0);
  ASSERT_EQ(a.skills_size(), 2);
  EXPECT_EQ(a.skills(0).name(), "billing");
  EXPECT_EQ(a.skills(0).proficiency(), 4);
  EXPECT_EQ(a.skills(1).name(), "refunds");
  EXPECT_EQ(a.skills(1).proficiency(), 3);
  EXPECT_EQ(std::vector<std::string>(a.languages().begin(), a.languages().end()),
            (std::vector<std::string>{"da", "en", "zh-Hant-TW"}));
  EXPECT_EQ(a.display_name(), "anna") << "display name defaults to the id";

  const v1::Person& b = people.Get(1);
  EXPECT_EQ(b.display_name(), "Bo Ærø");
  EXPECT_EQ(b.mentor(), "anna");
  EXPECT_EQ(b.skills_size(), 0);
  EXPECT_EQ(b.languages_size(), 0);
}

TEST(ValidateRosterTest, EmptyRosterIsValid) {
  People people;
  EXPECT_TRUE(ValidateRoster(&people).ok());
}

TEST(ValidateRosterTest, MentorMayBeListedLater) {
  v1::Person bo = MakePerson("bo", v1::ROLE_AGENT);
  bo.set_mentor("zoe");
  People people = Roster({bo, MakePerson("zoe")});
  EXPECT_TRUE(ValidateRoster(&people).ok());
}

TEST(ValidateRosterTest, BoundaryValuesAreAccepted) {
  v1::Person p = MakePerson("p", v1::ROLE_SENIOR, {{"a", 1}, {"b", 5}});
  p.set_capacity(20);
  v1::Person q = MakePerson(std::string(64, 'q'));
  q.set_capacity(0);
  q.set_display_name(std::string(200, 'x'));
  People people = Roster({p, q});
  absl::Status st = ValidateRoster(&people);
  EXPECT_TRUE(st.ok()) << st;
}

TEST(ValidateRosterTest, MaxRosterSizeIsAcceptedOneMoreIsNot) {
  People people;
  for (int i = 0; i < kMaxRosterSize; ++i) *people.Add() = MakePerson(absl::StrCat("p", i));
  absl::Status st = ValidateRoster(&people);
  EXPECT_TRUE(st.ok()) << st;

  *people.Add() = MakePerson("one-more");
  ASSERT_EQ(people.size(), 20001);
  st = ValidateRoster(&people);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "people: 20001 entries is over the limit of 20000");
}

// ---------------------------------------------------------------------------------------------
// ValidateRoster: every rule names the entry and the field

TEST(ValidateRosterTest, ProficiencyOutsideOneToFive) {
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"billing", 0}})}),
                "people[0] (id \"anna\"): skills[0].proficiency: 0 is outside 1..5");
  ExpectInvalid(Roster({MakePerson("anna"),
                        MakePerson("bo", v1::ROLE_SENIOR, {{"billing", 4}, {"refunds", 6}})}),
                "people[1] (id \"bo\"): skills[1].proficiency: 6 is outside 1..5");
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"billing", -3}})}),
                "people[0] (id \"anna\"): skills[0].proficiency: -3 is outside 1..5");
}

TEST(ValidateRosterTest, UnknownOrMissingRole) {
  ExpectInvalid(Roster({MakePerson("anna", static_cast<v1::Role>(42))}),
                "people[0] (id \"anna\"): role: 42 is not a role (agent, senior, team_leader, "
                "supervisor, bot, admin)");
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_UNSPECIFIED)}),
                "people[0] (id \"anna\"): role: 0 is not a role (agent, senior, team_leader, "
                "supervisor, bot, admin)");
}

TEST(ValidateRosterTest, MalformedLanguageTag) {
  ExpectInvalid(Roster({MakePerson("anna"),
                        MakePerson("bo", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "dansk-"})}),
                "people[1] (id \"bo\"): languages[1]: \"dansk-\" is not a BCP-47 language tag "
                "such as da, zh-Hant or pt-BR");
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"billing", 4}}, {""})}),
                "people[0] (id \"anna\"): languages[0]: required");
}

TEST(ValidateRosterTest, DuplicateIds) {
  ExpectInvalid(Roster({MakePerson("anna"), MakePerson("bo"), MakePerson("anna")}),
                "people[2] (id \"anna\"): id: listed twice in the roster");
}

TEST(ValidateRosterTest, MentorNotOnRoster) {
  v1::Person bo = MakePerson("bo", v1::ROLE_AGENT);
  bo.set_mentor("zoe");
  ExpectInvalid(Roster({MakePerson("anna"), bo}),
                "people[1] (id \"bo\"): mentor: \"zoe\" is not on the roster");
}

TEST(ValidateRosterTest, MentorIsSelf) {
  v1::Person anna = MakePerson("anna");
  anna.set_mentor("anna");
  ExpectInvalid(Roster({anna}),
                "people[0] (id \"anna\"): mentor: a person cannot mentor themselves");
}

TEST(ValidateRosterTest, MentorIsNotAValidId) {
  v1::Person anna = MakePerson("anna");
  anna.set_mentor("Bo");
  ExpectInvalid(Roster({anna}),
                "people[0] (id \"anna\"): mentor: \"Bo\" is not a valid id "
                "([a-z0-9][a-z0-9._-]{0,63})");
}

TEST(ValidateRosterTest, CapacityOutsideZeroToTwenty) {
  v1::Person anna = MakePerson("anna");
  anna.set_capacity(-1);
  ExpectInvalid(Roster({anna}), "people[0] (id \"anna\"): capacity: -1 is outside 0..20");
  anna.set_capacity(21);
  ExpectInvalid(Roster({anna}), "people[0] (id \"anna\"): capacity: 21 is outside 0..20");
}

TEST(ValidateRosterTest, DuplicateSkill) {
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR,
                                   {{"billing", 4}, {"refunds", 2}, {"billing", 3}})}),
                "people[0] (id \"anna\"): skills[2].name: \"billing\" is listed twice");
}

TEST(ValidateRosterTest, BadSkillName) {
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"Billing", 4}})}),
                "people[0] (id \"anna\"): skills[0].name: \"Billing\" is not a valid id "
                "([a-z0-9][a-z0-9._-]{0,63})");
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"", 4}})}),
                "people[0] (id \"anna\"): skills[0].name: required");
}

TEST(ValidateRosterTest, BadIdsOmitTheIdFromTheEntryName) {
  ExpectInvalid(Roster({MakePerson("anna"), MakePerson("Bo Jensen")}),
                "people[1]: id: \"Bo Jensen\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})");
  ExpectInvalid(Roster({MakePerson("")}), "people[0]: id: required");
  ExpectInvalid(Roster({MakePerson(std::string(65, 'a'))}),
                absl::StrCat("people[0]: id: \"", std::string(40, 'a'),
                             "\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})"));
}

TEST(ValidateRosterTest, BadTeamAndSite) {
  v1::Person anna = MakePerson("anna");
  anna.set_team("");
  ExpectInvalid(Roster({anna}), "people[0] (id \"anna\"): team: required");
  anna = MakePerson("anna");
  anna.set_site("CPH");
  ExpectInvalid(Roster({anna}),
                "people[0] (id \"anna\"): site: \"CPH\" is not a valid id "
                "([a-z0-9][a-z0-9._-]{0,63})");
}

TEST(ValidateRosterTest, BadDisplayName) {
  v1::Person anna = MakePerson("anna");
  anna.set_display_name(std::string(201, 'x'));
  ExpectInvalid(Roster({anna}),
                "people[0] (id \"anna\"): display_name: 201 bytes is over the limit of 200");
  anna.set_display_name("Anna \xC0\xAF");
  ExpectInvalid(Roster({anna}), "people[0] (id \"anna\"): display_name: invalid UTF-8 at byte 5");
}

TEST(ValidateRosterTest, TooManySkillsOrLanguages) {
  std::vector<std::pair<std::string, int>> skills;
  for (int i = 0; i <= kMaxSkillsPerPerson; ++i) skills.push_back({absl::StrCat("s", i), 3});
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, skills)}),
                "people[0] (id \"anna\"): skills: more than 64 skills");
  skills.pop_back();
  People ok = Roster({MakePerson("anna", v1::ROLE_SENIOR, skills)});
  EXPECT_TRUE(ValidateRoster(&ok).ok());

  std::vector<std::string> langs(kMaxLanguagesPerPerson + 1, "da");
  ExpectInvalid(Roster({MakePerson("anna", v1::ROLE_SENIOR, {{"billing", 4}}, langs)}),
                "people[0] (id \"anna\"): languages: more than 16 languages");
}

TEST(ValidateRosterTest, ReportsTheFirstInvalidEntry) {
  v1::Person bad1 = MakePerson("bo");
  bad1.set_capacity(99);
  v1::Person bad2 = MakePerson("cy", v1::ROLE_SENIOR, {{"billing", 9}});
  ExpectInvalid(Roster({MakePerson("anna"), bad1, bad2}),
                "people[1] (id \"bo\"): capacity: 99 is outside 0..20");
}

// ---------------------------------------------------------------------------------------------
// Index tags and encodings

TEST(LanguageIndexTagsTest, EveryTagWithItsPrefixes) {
  v1::Person p;
  p.add_languages("zh-Hant-TW");
  EXPECT_EQ(LanguageIndexTags(p), (std::vector<std::string>{"zh", "zh-Hant", "zh-Hant-TW"}));
}

TEST(LanguageIndexTagsTest, SortedAndUnique) {
  v1::Person p;
  p.add_languages("pt-BR");
  p.add_languages("da");
  p.add_languages("zh-Hant");
  p.add_languages("zh");
  p.add_languages("es-419");
  EXPECT_EQ(LanguageIndexTags(p),
            (std::vector<std::string>{"da", "es", "es-419", "pt", "pt-BR", "zh", "zh-Hant"}));
  EXPECT_TRUE(LanguageIndexTags(v1::Person()).empty());
}

TEST(EncodeTest, SkillsAndLanguagesExactStrings) {
  People people = Roster(
      {MakePerson("anna", v1::ROLE_SENIOR, {{"refunds", 3}, {"billing", 4}}, {"zh-hant", "da"})});
  ASSERT_TRUE(ValidateRoster(&people).ok());
  EXPECT_EQ(EncodeSkills(people.Get(0)), ";billing:4;refunds:3;");
  EXPECT_EQ(EncodeLanguages(people.Get(0)), ";da;zh;zh-Hant;");
}

TEST(EncodeTest, EmptyQualifications) {
  v1::Person p;
  EXPECT_EQ(EncodeSkills(p), ";");
  EXPECT_EQ(EncodeLanguages(p), ";");
}

TEST(IndexEntriesForTest, OneEntryPerIndexWithStoreKeys) {
  People people = Roster({MakePerson("anna", v1::ROLE_TEAM_LEADER, {{"refunds", 3}, {"billing", 5}},
                                     {"zh-Hant", "da"})});
  ASSERT_TRUE(ValidateRoster(&people).ok());
  const store::Keys keys;
  const std::vector<IndexEntry> expected = {
      {keys.SkillIndex("billing"), true, 5},     {keys.SkillIndex("refunds"), true, 3},
      {keys.LanguageIndex("da"), false, 0},      {keys.LanguageIndex("zh"), false, 0},
      {keys.LanguageIndex("zh-Hant"), false, 0}, {keys.TeamIndex("cph-billing"), false, 0},
      {keys.SiteIndex("cph"), false, 0},         {keys.RoleIndex("team_leader"), false, 0},
  };
  EXPECT_EQ(IndexEntriesFor(people.Get(0), keys), expected);
  // The keys are the store's schema.
  EXPECT_EQ(expected[0].key, "bl:idx:skill:billing");
  EXPECT_EQ(expected[4].key, "bl:idx:lang:zh-Hant");
  EXPECT_EQ(expected[7].key, "bl:idx:role:team_leader");
}

TEST(IndexEntriesForTest, UsesTheDeploymentPrefix) {
  v1::Person p = MakePerson("bo", v1::ROLE_AGENT, {}, {});
  const store::Keys keys("{site-a}");
  const std::vector<IndexEntry> expected = {
      {"{site-a}:idx:team:cph-billing", false, 0},
      {"{site-a}:idx:site:cph", false, 0},
      {"{site-a}:idx:role:agent", false, 0},
  };
  EXPECT_EQ(IndexEntriesFor(p, keys), expected);
}

// ---------------------------------------------------------------------------------------------
// DiffRoster

std::vector<std::string> Ids(const std::vector<const v1::Person*>& people) {
  std::vector<std::string> ids;
  for (const v1::Person* p : people) ids.push_back(p->id());
  return ids;
}

TEST(DiffRosterTest, AddedUpdatedRemovedUnchanged) {
  std::map<std::string, v1::Person> current;
  for (const char* id : {"anna", "bo", "cy", "dan"}) current[id] = MakePerson(id);

  v1::Person bo = MakePerson("bo");
  bo.set_capacity(5);
  v1::Person dan = MakePerson("dan");
  dan.add_languages("en");
  People next = Roster({MakePerson("eve"), MakePerson("anna"), bo, dan, MakePerson("abe")});

  RosterDiff diff = DiffRoster(current, next);
  EXPECT_EQ(Ids(diff.added), (std::vector<std::string>{"eve", "abe"}));
  EXPECT_EQ(Ids(diff.updated), (std::vector<std::string>{"bo", "dan"}));
  EXPECT_EQ(diff.removed, (std::vector<std::string>{"cy"}));
  EXPECT_EQ(diff.unchanged, 1);
  // The pointers refer to the new roster's entries.
  ASSERT_EQ(diff.updated.size(), 2u);
  EXPECT_EQ(diff.updated[0], &next.Get(2));
  EXPECT_EQ(diff.updated[0]->capacity(), 5);
  ASSERT_EQ(diff.added.size(), 2u);
  EXPECT_EQ(diff.added[0], &next.Get(0));
}

TEST(DiffRosterTest, SameRosterChangesNothing) {
  std::map<std::string, v1::Person> current;
  People next = Roster({MakePerson("anna"), MakePerson("bo")});
  for (const v1::Person& p : next) current[p.id()] = p;
  RosterDiff diff = DiffRoster(current, next);
  EXPECT_TRUE(diff.added.empty());
  EXPECT_TRUE(diff.updated.empty());
  EXPECT_TRUE(diff.removed.empty());
  EXPECT_EQ(diff.unchanged, 2);
}

TEST(DiffRosterTest, EmptyNextRemovesEveryoneInIdOrder) {
  std::map<std::string, v1::Person> current;
  for (const char* id : {"zoe", "anna", "mei"}) current[id] = MakePerson(id);
  RosterDiff diff = DiffRoster(current, People());
  EXPECT_EQ(diff.removed, (std::vector<std::string>{"anna", "mei", "zoe"}));
  EXPECT_TRUE(diff.added.empty());
  EXPECT_TRUE(diff.updated.empty());
  EXPECT_EQ(diff.unchanged, 0);
}

TEST(DiffRosterTest, AnyFieldChangeIsAnUpdate) {
  std::map<std::string, v1::Person> current;
  current["anna"] = MakePerson("anna");
  for (int field = 0; field < 5; ++field) {
    v1::Person p = MakePerson("anna");
    switch (field) {
      case 0:
        p.set_display_name("Anna J");
        break;
      case 1:
        p.mutable_skills(0)->set_proficiency(5);
        break;
      case 2:
        p.set_team("aarhus");
        break;
      case 3:
        p.set_role(v1::ROLE_SUPERVISOR);
        break;
      case 4:
        p.set_mentor("bo");
        break;
    }
    People next = Roster({p});
    RosterDiff diff = DiffRoster(current, next);
    EXPECT_EQ(diff.updated.size(), 1u) << "field " << field;
    EXPECT_EQ(diff.unchanged, 0) << "field " << field;
  }
}

}  // namespace
}  // namespace backline::presence
