// Unit tests for the CLI's parsing: command-line arguments (cli/args) and roster files
// (cli/roster_file), including the mapping of server messages back to file lines.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "cli/args.h"
#include "cli/roster_file.h"
#include "cli/words.h"
#include "services/presence/roster.h"

namespace backline::cli {
namespace {

using Words = std::vector<std::string>;

const std::set<std::string> kValueFlags = {"language", "skill", "priority", "server"};
const std::set<std::string> kBoolFlags = {"json", "dry-run"};

// ---------------------------------------------------------------------------------------------
// Args::Parse

TEST(ArgsTest, PositionalValueAndBoolFlags) {
  absl::StatusOr<Args> a = Args::Parse(
      {"escalate", "--language", "da", "--json", "Kunden vil have refusion", "--skill", "billing"},
      kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->positional(), (Words{"escalate", "Kunden vil have refusion"}));
  EXPECT_TRUE(a->Has("language"));
  EXPECT_EQ(a->Get("language"), "da");
  EXPECT_TRUE(a->Has("json"));
  EXPECT_EQ(a->Get("json"), "true");
  EXPECT_EQ(a->Get("skill"), "billing");
  EXPECT_FALSE(a->Has("dry-run"));
  EXPECT_FALSE(a->Has("priority"));
  EXPECT_EQ(a->Get("priority"), "");
  EXPECT_EQ(a->Get("priority", "normal"), "normal");
  EXPECT_TRUE(a->GetAll("priority").empty());
}

TEST(ArgsTest, EqualsForm) {
  absl::StatusOr<Args> a = Args::Parse({"--language=zh-Hant", "--server=host:1=2", "--priority="},
                                       kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->Get("language"), "zh-Hant");
  EXPECT_EQ(a->Get("server"), "host:1=2") << "only the first '=' separates";
  EXPECT_TRUE(a->Has("priority"));
  EXPECT_EQ(a->Get("priority", "fallback"), "") << "an explicit empty value is a value";
  EXPECT_TRUE(a->positional().empty());
}

TEST(ArgsTest, RepeatedFlagsKeepEveryValue) {
  absl::StatusOr<Args> a =
      Args::Parse({"--skill", "billing", "--skill=refunds", "--skill", "vat", "--json", "--json"},
                  kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->GetAll("skill"), (Words{"billing", "refunds", "vat"}));
  EXPECT_EQ(a->Get("skill"), "vat") << "Get returns the last value";
  EXPECT_EQ(a->GetAll("json"), (Words{"true", "true"}));
}

TEST(ArgsTest, UnknownFlagIsAnError) {
  absl::StatusOr<Args> a = Args::Parse({"escalate", "--colour", "red"}, kValueFlags, kBoolFlags);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "unknown option --colour");

  a = Args::Parse({"--colour=red"}, kValueFlags, kBoolFlags);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "unknown option --colour");

  a = Args::Parse({"--"}, {}, {});
  ASSERT_TRUE(a.ok());
  a = Args::Parse({"--=x"}, kValueFlags, kBoolFlags);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "unknown option --");
}

TEST(ArgsTest, MissingValueIsAnError) {
  absl::StatusOr<Args> a = Args::Parse({"escalate", "--language"}, kValueFlags, kBoolFlags);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "--language needs a value");
}

TEST(ArgsTest, BoolFlagTakesNoValue) {
  absl::StatusOr<Args> a = Args::Parse({"--json=yes"}, kValueFlags, kBoolFlags);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "--json takes no value");
  // Without '=' the next word stays positional.
  a = Args::Parse({"--json", "yes"}, kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->positional(), (Words{"yes"}));
}

TEST(ArgsTest, DoubleDashEndsOptions) {
  absl::StatusOr<Args> a = Args::Parse(
      {"post", "--json", "--", "--language", "--not-a-flag", "--", "-x"}, kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->positional(), (Words{"post", "--language", "--not-a-flag", "--", "-x"}));
  EXPECT_TRUE(a->Has("json"));
  EXPECT_FALSE(a->Has("language"));
}

TEST(ArgsTest, SingleDashWordsArePositional) {
  absl::StatusOr<Args> a = Args::Parse({"-", "-v", "-1"}, kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->positional(), (Words{"-", "-v", "-1"}));
}

TEST(ArgsTest, ValueMayLookLikeAnything) {
  absl::StatusOr<Args> a =
      Args::Parse({"--server", "-", "--language", ""}, kValueFlags, kBoolFlags);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->Get("server"), "-");
  EXPECT_TRUE(a->Has("language"));
  EXPECT_EQ(a->Get("language", "x"), "");
  EXPECT_TRUE(a->positional().empty());
}

// ---------------------------------------------------------------------------------------------
// ParseRosterFile

TEST(ParseRosterFileTest, ParsesPeopleSkippingCommentsAndBlankLines) {
  // Lines: 1 comment, 2 blank, 3 anna, 4 whitespace only, 5 indented comment, 6 bo (padded,
  // CRLF), 7 blank.
  const std::string text =
      "# Copenhagen roster\n"
      "\n"
      R"({"id": "anna", "name": "Anna Jensen", "role": "senior", "team": "cph-billing", )"
      R"("site": "cph", "capacity": 3, "languages": ["da", "en"], )"
      R"("skills": {"refunds": 3, "billing": 4}, "mentor": "bo"})"
      "\n"
      "   \t  \n"
      "   # indented comment\n"
      R"(  {"id": "bo", "role": "agent", "team": "cph-billing", "site": "cph"}  )"
      "\r\n"
      "\n";
  absl::StatusOr<RosterFile> file = ParseRosterFile(text);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->request.people_size(), 2);
  EXPECT_EQ(file->lines, (std::vector<int>{3, 6}));

  const v1::Person& anna = file->request.people(0);
  EXPECT_EQ(anna.id(), "anna");
  EXPECT_EQ(anna.display_name(), "Anna Jensen");
  EXPECT_EQ(anna.role(), v1::ROLE_SENIOR);
  EXPECT_EQ(anna.team(), "cph-billing");
  EXPECT_EQ(anna.site(), "cph");
  EXPECT_EQ(anna.capacity(), 3);
  EXPECT_EQ(Words(anna.languages().begin(), anna.languages().end()), (Words{"da", "en"}));
  ASSERT_EQ(anna.skills_size(), 2);
  EXPECT_EQ(anna.skills(0).name(), "billing");
  EXPECT_EQ(anna.skills(0).proficiency(), 4);
  EXPECT_EQ(anna.skills(1).name(), "refunds");
  EXPECT_EQ(anna.skills(1).proficiency(), 3);
  EXPECT_EQ(anna.mentor(), "bo");

  const v1::Person& bo = file->request.people(1);
  EXPECT_EQ(bo.id(), "bo");
  EXPECT_EQ(bo.display_name(), "");
  EXPECT_EQ(bo.role(), v1::ROLE_AGENT);
  EXPECT_EQ(bo.capacity(), 0);
  EXPECT_EQ(bo.skills_size(), 0);
  EXPECT_EQ(bo.languages_size(), 0);
  EXPECT_FALSE(file->request.dry_run());
}

TEST(ParseRosterFileTest, EmptyFileIsAnEmptyRoster) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "  \n# x\n\t\n"}) {
    absl::StatusOr<RosterFile> file = ParseRosterFile(text);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->request.people_size(), 0);
    EXPECT_TRUE(file->lines.empty());
  }
}

TEST(ParseRosterFileTest, DefaultCapacityByRole) {
  struct Case {
    const char* role;
    v1::Role parsed;
    int capacity;
  };
  for (const Case& c :
       {Case{"senior", v1::ROLE_SENIOR, 2}, Case{"team_leader", v1::ROLE_TEAM_LEADER, 2},
        Case{"supervisor", v1::ROLE_SUPERVISOR, 2}, Case{"agent", v1::ROLE_AGENT, 0},
        Case{"bot", v1::ROLE_BOT, 0}, Case{"admin", v1::ROLE_ADMIN, 0},
        Case{"ROLE_SENIOR", v1::ROLE_SENIOR, 2}, Case{"Team-Leader", v1::ROLE_TEAM_LEADER, 2}}) {
    absl::StatusOr<RosterFile> file =
        ParseRosterFile(std::string(R"({"id": "p", "role": ")") + c.role + R"("})");
    ASSERT_TRUE(file.ok()) << c.role << ": " << file.status();
    EXPECT_EQ(file->request.people(0).role(), c.parsed) << c.role;
    EXPECT_EQ(file->request.people(0).capacity(), c.capacity) << c.role;
  }
}

TEST(ParseRosterFileTest, ExplicitCapacityWinsOverTheDefault) {
  absl::StatusOr<RosterFile> file =
      ParseRosterFile(R"({"id": "s", "role": "senior", "capacity": 0})"
                      "\n"
                      R"({"id": "a", "role": "agent", "capacity": 1})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->request.people(0).capacity(), 0);
  EXPECT_EQ(file->request.people(1).capacity(), 1);
}

// Parses `text` and expects INVALID_ARGUMENT whose message is exactly `message`.
void ExpectFileError(const std::string& text, const std::string& message) {
  absl::StatusOr<RosterFile> file = ParseRosterFile(text);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_EQ(file.status().message(), message) << text;
}

const char kGoodLine[] = R"({"id": "anna", "role": "senior", "team": "t", "site": "s"})";

TEST(ParseRosterFileTest, BadJsonNamesTheLine) {
  const std::string text = std::string("# header\n") + kGoodLine + "\n{\"id\": \"bo\",\n";
  absl::StatusOr<RosterFile> file = ParseRosterFile(text);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(file.status().message(), "line 3: not valid JSON ("))
      << file.status();
}

TEST(ParseRosterFileTest, NotAnObject) {
  ExpectFileError("[1, 2]", "line 1: not a JSON object");
  ExpectFileError(std::string(kGoodLine) + "\n\"anna\"", "line 2: not a JSON object");
}

TEST(ParseRosterFileTest, UnknownField) {
  ExpectFileError(
      std::string(kGoodLine) + "\n\n" + R"({"id": "bo", "role": "agent", "colour": "blue"})",
      "line 3: unknown field \"colour\"");
  // Field names are exact: the proto name display_name is not the file's "name".
  ExpectFileError(R"({"id": "bo", "role": "agent", "display_name": "Bo"})",
                  "line 1: unknown field \"display_name\"");
}

TEST(ParseRosterFileTest, BadRole) {
  ExpectFileError(R"({"id": "bo", "role": "pilot"})",
                  "line 1: role: \"pilot\" is not agent, senior, team_leader, supervisor, bot or "
                  "admin");
  ExpectFileError(R"({"id": "bo"})",
                  "line 1: role: \"\" is not agent, senior, team_leader, supervisor, bot or admin");
  ExpectFileError(R"({"id": "bo", "role": 2})", "line 1: role: must be a string");
}

TEST(ParseRosterFileTest, MissingOrNonStringId) {
  ExpectFileError(R"({"role": "agent"})", "line 1: id: required");
  ExpectFileError(R"({"id": "", "role": "agent"})", "line 1: id: required");
  ExpectFileError(R"({"id": 7, "role": "agent"})", "line 1: id: must be a string");
  ExpectFileError(R"({"id": "bo", "role": "agent", "mentor": null})",
                  "line 1: mentor: must be a string");
  ExpectFileError(R"({"id": "bo", "role": "agent", "team": ["a"]})",
                  "line 1: team: must be a string");
}

TEST(ParseRosterFileTest, NonIntegerProficiency) {
  for (const char* level : {R"("4")", "4.5", "true", "null", "[4]"}) {
    ExpectFileError(
        std::string(R"({"id": "bo", "role": "senior", "skills": {"billing": )") + level + "}}",
        "line 1: skills.billing: proficiency must be 1..5");
  }
  ExpectFileError(R"({"id": "bo", "role": "senior", "skills": ["billing"]})",
                  "line 1: skills: must map skill names to proficiency 1..5");
}

TEST(ParseRosterFileTest, OutOfRangeProficiencyIsLeftToTheServer) {
  // The file format only checks types; ValidateRoster rejects 0 and 6 with the entry's index.
  absl::StatusOr<RosterFile> file =
      ParseRosterFile(R"({"id": "bo", "role": "senior", "skills": {"billing": 6}})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->request.people(0).skills(0).proficiency(), 6);
}

TEST(ParseRosterFileTest, NonIntegerCapacity) {
  for (const char* cap : {R"("2")", "2.5", "false", "null"}) {
    ExpectFileError(std::string(R"({"id": "bo", "role": "senior", "capacity": )") + cap + "}",
                    "line 1: capacity: must be an integer");
  }
}

// Integers beyond int's range must be refused, not truncated into a valid-looking value
// (4294967298 would otherwise become capacity 2).
TEST(ParseRosterFileTest, IntegersOutsideIntRangeAreRefused) {
  absl::StatusOr<RosterFile> file =
      ParseRosterFile(R"({"id": "bo", "role": "senior", "capacity": 4294967298})");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument)
      << "accepted with capacity " << (file.ok() ? file->request.people(0).capacity() : -1);

  file = ParseRosterFile(R"({"id": "bo", "role": "senior", "skills": {"billing": 4294967301}})");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument)
      << "accepted with proficiency "
      << (file.ok() ? file->request.people(0).skills(0).proficiency() : -1);
}

TEST(ParseRosterFileTest, BadLanguages) {
  ExpectFileError(R"({"id": "bo", "role": "agent", "languages": "da"})",
                  "line 1: languages: must be a list of language tags");
  ExpectFileError(R"({"id": "bo", "role": "agent", "languages": ["da", 1]})",
                  "line 1: languages: must be a list of language tags");
}

TEST(ParseRosterFileTest, FirstErrorWins) {
  ExpectFileError(
      std::string(kGoodLine) + "\n" + R"({"id": "bo", "role": "pilot"})" + "\n" + "not json\n",
      "line 2: role: \"pilot\" is not agent, senior, team_leader, supervisor, bot or "
      "admin");
}

// ---------------------------------------------------------------------------------------------
// WithLineNumbers

RosterFile FileWithLines(std::vector<int> lines) {
  RosterFile f;
  for (size_t i = 0; i < lines.size(); ++i) f.request.add_people();
  f.lines = std::move(lines);
  return f;
}

TEST(WithLineNumbersTest, MapsEntryIndexToFileLine) {
  const RosterFile f = FileWithLines({2, 5, 9});
  EXPECT_EQ(
      WithLineNumbers("people[1] (id \"x\"): capacity: 21 is outside 0..20", f, "roster.jsonl"),
      "roster.jsonl line 5 (id \"x\"): capacity: 21 is outside 0..20");
  EXPECT_EQ(WithLineNumbers("people[0]: id: required", f, "/etc/backline/roster.jsonl"),
            "/etc/backline/roster.jsonl line 2: id: required");
  EXPECT_EQ(WithLineNumbers("people[2] (id \"zoe\"): mentor: \"x\" is not on the roster", f, "r"),
            "r line 9 (id \"zoe\"): mentor: \"x\" is not on the roster");
}

TEST(WithLineNumbersTest, LeavesOtherMessagesAlone) {
  const RosterFile f = FileWithLines({2, 5});
  for (const char* m : {"people: 20001 entries is over the limit of 20000", "permission denied", "",
                        "people[2] (id \"x\"): out of range", "people[-1]: negative",
                        "people[x]: not a number", "people[1 unclosed", "people[]: empty"}) {
    EXPECT_EQ(WithLineNumbers(m, f, "roster.jsonl"), m);
  }
}

TEST(WithLineNumbersTest, ServerMessageOfAParsedFile) {
  // The whole path: a file, the server's validation, and the message the user sees.
  const std::string text = std::string("# people\n") +
                           R"({"id": "anna", "role": "senior", "team": "t", "site": "s"})" +
                           "\n\n" + R"({"id": "x", "role": "senior", "team": "t", "site": "s", )" +
                           R"("skills": {"billing": 6}})" + "\n";
  absl::StatusOr<RosterFile> file = ParseRosterFile(text);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->lines, (std::vector<int>{2, 4}));

  v1::ApplyRosterRequest request = file->request;
  absl::Status st = presence::ValidateRoster(request.mutable_people());
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "people[1] (id \"x\"): skills[0].proficiency: 6 is outside 1..5");
  EXPECT_EQ(WithLineNumbers(std::string(st.message()), *file, "roster.jsonl"),
            "roster.jsonl line 4 (id \"x\"): skills[0].proficiency: 6 is outside 1..5");
}

TEST(ExpectedWaitWordsTest, SaysSecondsThenMinutesAndNeverZero) {
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Milliseconds(300)), "less than a second to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::ZeroDuration()), "less than a second to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Milliseconds(600)), "about 1 s to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Seconds(42)), "about 42 s to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Seconds(90)), "about 90 s to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Seconds(91)), "about 2 min to wait");
  EXPECT_EQ(cli::ExpectedWaitWords(absl::Minutes(10) + absl::Seconds(20)), "about 10 min to wait");
}

TEST(ThreadCommandTest, ReadsResolveTransferAndInvite) {
  EXPECT_TRUE(cli::IsThreadCommand("/resolve"));
  EXPECT_FALSE(cli::IsThreadCommand("//resolve is what I type"));
  EXPECT_FALSE(cli::IsThreadCommand("hej /resolve"));
  EXPECT_EQ(cli::MessageOfLine("//resolve is what I type"), "/resolve is what I type");
  EXPECT_EQ(cli::MessageOfLine("客户 / 退款"), "客户 / 退款");

  auto c = cli::ParseThreadCommand("/resolve  kreditnota sendt — løst ");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, cli::ThreadCommand::kResolve);
  EXPECT_EQ(c->text, "kreditnota sendt — løst");
  c = cli::ParseThreadCommand("/resolve");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->text, "");
  c = cli::ParseThreadCommand("/transfer billing:2 fraud");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, cli::ThreadCommand::kTransfer);
  ASSERT_EQ(c->skills.size(), 2u);
  EXPECT_EQ(c->skills[0].skill(), "billing");
  EXPECT_EQ(c->skills[0].min_proficiency(), 2);
  EXPECT_EQ(c->skills[1].min_proficiency(), 1);
  c = cli::ParseThreadCommand("/invite mei");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, cli::ThreadCommand::kInvite);
  EXPECT_EQ(c->text, "mei");

  EXPECT_EQ(cli::ParseThreadCommand("/resolv").status().message(),
            "/resolv: unknown; commands: /resolve [note], /transfer SKILL[:LEVEL]…, /invite "
            "PERSON; //text sends /text");
  EXPECT_EQ(cli::ParseThreadCommand("/transfer billing:x").status().message(),
            "/transfer billing:x: use NAME or NAME:LEVEL");
  EXPECT_EQ(cli::ParseThreadCommand("/transfer").status().message(),
            "/transfer: name the skills it needs, e.g. /transfer billing:3");
  EXPECT_EQ(cli::ParseThreadCommand("/invite mei karl").status().message(),
            "/invite: name one person, e.g. /invite mei");
}

}  // namespace
}  // namespace backline::cli
