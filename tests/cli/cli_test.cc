// The real `backline` binary against a real server: the escalation flow step by step, and the
// error paths with their documented exit codes and messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/router/routing_policy.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
  }

  // Runs `backline` as `who` (a token is minted for them unless `token` is given).
  ProcessResult Backline(std::vector<std::string> args, const std::string& token = "",
                         const std::string& input = "") {
    std::vector<std::string> argv = {BACKLINE_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> env = {{"BACKLINE_TARGET", stack_->target()},
                                              {"BACKLINE_TOKEN", token},
                                              {"BACKLINE_TOKEN_SECRET", kTestSecret},
                                              {"BACKLINE_CONFIG", dir_ + "/none"}};
    return RunProcess(argv, env, input);
  }

  std::string TokenOf(const std::string& id, const std::string& role) {
    ProcessResult r = Backline({"admin", "token", "--subject", id, "--role", role});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripAsciiWhitespace(r.out));
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static constexpr char kRoster[] =
      "# test roster\n"
      "{\"id\":\"anna\",\"name\":\"Anna Jensen\",\"role\":\"agent\",\"team\":\"cph-billing\","
      "\"site\":\"cph\",\"languages\":[\"da\"]}\n"
      "\n"
      "{\"id\":\"soren\",\"name\":\"Søren Holm\",\"role\":\"senior\",\"team\":\"cph-billing\","
      "\"site\":\"cph\",\"languages\":[\"da\",\"lt\"],\"skills\":{\"billing\":4}}\n";

  std::unique_ptr<TestStack> stack_;
  TempDir tmp_{"backline-cli"};
  const std::string dir_ = tmp_.path();
};

TEST_F(CliTest, TheWholeFlowFromTheCommandLine) {
  const std::string admin = TokenOf("root", "admin");
  const std::string roster = WriteFile("roster.jsonl", kRoster);
  ProcessResult r = Backline({"admin", "roster", "apply", roster}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 added"), std::string::npos) << r.out;

  const std::string anna = TokenOf("anna", "agent");
  const std::string soren = TokenOf("soren", "senior");
  r = Backline({"presence", "set", "available"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("available"), std::string::npos);

  r = Backline({"who", "--skill", "billing", "--lang", "da"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "soren")) << r.out;

  r = Backline({"ask", "--skill", "billing:3", "--lang", "da", "--quiet", "kunden", "vil", "have",
                "en", "refusion"},
               anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string esc(absl::StripAsciiWhitespace(r.out));
  ASSERT_TRUE(absl::StartsWith(esc, "esc-")) << r.out;

  r = Backline({"watch", "--cursor", "0", "--until", "offer", "--for", "5"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("OFFER " + esc), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kunden vil have en refusion"), std::string::npos) << r.out;

  r = Backline({"accept", esc, "--quiet"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string thread(absl::StripAsciiWhitespace(r.out));
  ASSERT_TRUE(absl::StartsWith(thread, "thr-")) << r.out;

  // A second accept is a conflict.
  r = Backline({"accept", esc}, soren);
  EXPECT_EQ(r.exit_code, 5) << r.err;

  const std::string lithuanian = "Kaip valdyti skambučių centrą — ąčęėįšųūž";
  r = Backline({"say", esc, lithuanian}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Backline({"say", thread, "-"}, soren, "Ja, det ordner jeg.\nVenlig hilsen Søren");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Backline({"history", thread}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("anna: " + lithuanian), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Venlig hilsen Søren"), std::string::npos) << r.out;

  r = Backline({"resolve", esc, "--note", "refund approved"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Backline({"show", esc, "--json"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"state\":\"ESCALATION_STATE_RESOLVED\""), std::string::npos) << r.out;
}

TEST_F(CliTest, RosterErrorsNameTheLine) {
  const std::string admin = TokenOf("root", "admin");
  std::string text = kRoster;
  text +=
      "{\"id\":\"bad\",\"role\":\"senior\",\"team\":\"t\",\"site\":\"s\",\"skills\":"
      "{\"billing\":6}}\n";
  ProcessResult r = Backline({"admin", "roster", "apply", WriteFile("r.jsonl", text)}, admin);
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("line 5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("proficiency"), std::string::npos) << r.err;
  r = Backline({"admin", "roster", "apply", WriteFile("j.jsonl", "{not json\n")}, admin);
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  // Nothing was applied: the people of the valid lines are not on the roster either.
  r = Backline({"presence", "get", "soren"}, admin);
  EXPECT_EQ(r.exit_code, 3) << r.out;
}

TEST_F(CliTest, ErrorPathsHaveClearMessagesAndExitCodes) {
  const std::string admin = TokenOf("root", "admin");
  ASSERT_EQ(Backline({"admin", "roster", "apply", WriteFile("r.jsonl", kRoster)}, admin).exit_code,
            0);
  const std::string anna = TokenOf("anna", "agent");

  ProcessResult r = Backline({"show", "esc-0000000000"}, anna);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no escalation"), std::string::npos) << r.err;

  r = Backline({"show", "esc-0000000000"}, "not-a-token");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("admin token"), std::string::npos) << r.err;

  r = Backline({"presence", "set", "sleepy"}, anna);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Backline({"frobnicate"}, anna);
  EXPECT_EQ(r.exit_code, 2);
  r = Backline({"ask", "--lang", "da", "--skill", "billing", "--bogus", "x", "q"}, anna);
  EXPECT_EQ(r.exit_code, 2);
  r = Backline({"ask", "--lang", "da", "--skill", "astrology", "q"}, anna);
  EXPECT_EQ(r.exit_code, 6) << r.err;

  r = Backline({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("exit codes"), std::string::npos);
  r = Backline({"ask", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: backline ask"), std::string::npos);

  // Nothing listens on this port: a clear message and exit 7 within the deadline.
  std::vector<std::string> argv = {
      BACKLINE_CLI_PATH, "--target", absl::StrCat("127.0.0.1:", FreePort()),
      "--timeout",       "2",        "show",
      "esc-0000000000"};
  r = RunProcess(argv, {{"BACKLINE_TOKEN", anna}, {"BACKLINE_CONFIG", dir_ + "/none"}});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("is a Backline server running"), std::string::npos) << r.err;
  EXPECT_LT(r.elapsed, absl::Seconds(5));
}

TEST_F(CliTest, RosterQueriesAndTheDryRunDiff) {
  const std::string admin = TokenOf("root", "admin");
  ASSERT_EQ(Backline({"admin", "roster", "apply", WriteFile("r.jsonl", kRoster)}, admin).exit_code,
            0);
  std::string changed = kRoster;
  changed.replace(changed.find("\"billing\":4"), 11, "\"billing\":5");
  ProcessResult r =
      Backline({"admin", "roster", "apply", "--dry-run", WriteFile("c.jsonl", changed)}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("~ soren (skills)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would apply: 0 added, 1 updated"), std::string::npos) << r.out;

  const std::string anna = TokenOf("anna", "agent");
  r = Backline({"person", "soren"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Søren Holm  senior  cph-billing@cph  [billing:4]"), std::string::npos)
      << r.out;
  r = Backline({"people", "--skill", "billing", "--level", "4"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "soren ")) << r.out;
  r = Backline({"people", "--role", "agent", "--json"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"id\":\"anna\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("soren"), std::string::npos) << r.out;
  EXPECT_EQ(Backline({"person", "nobody"}, anna).exit_code, 3);

  r = Backline({"presence", "watch", "--person", "soren", "--for", "1"}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("-- 1 watched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("soren  offline"), std::string::npos) << r.out;
  // Anna has no mentor, so nobody to watch by default.
  r = Backline({"presence", "watch", "--for", "1"}, anna);
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

TEST_F(CliTest, ThreadsFromTheCommandLine) {
  const std::string admin = TokenOf("root", "admin");
  ASSERT_EQ(Backline({"admin", "roster", "apply", WriteFile("r.jsonl", kRoster)}, admin).exit_code,
            0);
  const std::string anna = TokenOf("anna", "agent");
  const std::string soren = TokenOf("soren", "senior");
  ProcessResult r = Backline({"open", "--with", "soren", "--quiet"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string thread(absl::StripAsciiWhitespace(r.out));
  ASSERT_TRUE(absl::StartsWith(thread, "thr-")) << r.out;
  ASSERT_EQ(Backline({"say", thread, "første besked"}, anna).exit_code, 0);
  ASSERT_EQ(Backline({"say", thread, "anden"}, anna).exit_code, 0);
  r = Backline({"threads"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(thread + "  direct  anna, soren  2 messages, 2 unread"), std::string::npos)
      << r.out;
  r = Backline({"read", thread, "1"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 unread"), std::string::npos) << r.out;
  ASSERT_EQ(Backline({"edit", thread, "2", "anden (rettet)"}, anna).exit_code, 0);
  EXPECT_EQ(Backline({"edit", thread, "2", "not mine"}, soren).exit_code, 4);
  ASSERT_EQ(Backline({"delete", thread, "1"}, anna).exit_code, 0);
  r = Backline({"history", thread}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("#2 anna: anden (rettet)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("første"), std::string::npos) << r.out;
  r = Backline({"watch", "--cursor", "0", "--for", "1"}, soren);
  EXPECT_NE(r.out.find("MESSAGE-EDITED " + thread + " #2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MESSAGE-DELETED " + thread + " #1"), std::string::npos) << r.out;
}

// The line of `text` that starts with `prefix` (empty if none).
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) return std::string(line);
  }
  return "";
}

// The whitespace-separated words of a line.
std::vector<std::string> Words(const std::string& line) {
  return absl::StrSplit(line, ' ', absl::SkipEmpty());
}

TEST_F(CliTest, ReopenInviteTransferExplainAndStats) {
  const std::string admin = TokenOf("root", "admin");
  std::string text = kRoster;
  text +=
      "{\"id\":\"ida\",\"name\":\"Ida Berg\",\"role\":\"senior\",\"team\":\"cph-fraud\","
      "\"site\":\"cph\",\"languages\":[\"da\"],\"skills\":{\"fraud\":3}}\n"
      "{\"id\":\"mia\",\"name\":\"Mia Lund\",\"role\":\"supervisor\",\"team\":\"cph-ops\","
      "\"site\":\"cph\",\"languages\":[\"da\"],\"skills\":{\"fraud\":2},\"capacity\":0}\n";
  ProcessResult r = Backline({"admin", "roster", "apply", WriteFile("r.jsonl", text)}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 added"), std::string::npos) << r.out;
  const std::string anna = TokenOf("anna", "agent");
  const std::string soren = TokenOf("soren", "senior");
  const std::string ida = TokenOf("ida", "senior");
  const std::string mia = TokenOf("mia", "supervisor");

  ASSERT_EQ(Backline({"presence", "set", "available"}, soren).exit_code, 0);
  r = Backline({"waiting"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nothing is waiting for you\n");

  r = Backline({"ask", "--skill", "billing:3", "--lang", "da", "--quiet", "dobbelt", "opkrævning"},
               anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string esc(absl::StripAsciiWhitespace(r.out));
  ASSERT_TRUE(absl::StartsWith(esc, "esc-")) << r.out;
  ASSERT_EQ(Backline({"accept", esc, "--quiet"}, soren).exit_code, 0);
  ASSERT_EQ(Backline({"resolve", esc}, soren).exit_code, 0);

  // Soren is still available: the escalation goes straight back to him.
  r = Backline({"reopen", esc, "--reason", "kunden ringede igen"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  ACCEPTED  helper soren  thread thr-")) << r.out;
  // Only a resolved escalation can be reopened.
  r = Backline({"reopen", esc}, soren);
  EXPECT_EQ(r.exit_code, 5) << r.err;

  r = Backline({"invite", esc, "ida"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  ACCEPTED  helper soren")) << r.out;
  EXPECT_NE(r.out.find("\n  experts ida\n"), std::string::npos) << r.out;
  r = Backline({"invite", esc, "ida"}, soren);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("ida is in the thread already"), std::string::npos) << r.err;
  EXPECT_EQ(Backline({"invite", esc}, soren).exit_code, 2);

  // Ida gets a live session, so the transfer can be offered to her.
  ASSERT_EQ(Backline({"presence", "set", "available"}, ida).exit_code, 0);
  r = Backline({"transfer", esc}, soren);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--skill"), std::string::npos) << r.err;
  r = Backline({"transfer", esc, "--skill", "fraud:x"}, soren);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("use NAME or NAME:LEVEL"), std::string::npos) << r.err;
  r = Backline({"transfer", esc, "--skill", "fraud:1", "--reason", "ligner svindel"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  OFFERED to ida (answer within ")) << r.out;

  r = Backline({"show", esc}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  OFFERED to ida")) << r.out;
  EXPECT_NE(r.out.find("\n  from anna [fraud>=1, da]: dobbelt opkrævning\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("queued at position"), std::string::npos) << r.out;
  r = Backline({"show", esc, "--json"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"experts\":[\"ida\"]"), std::string::npos) << r.out;
  r = Backline({"history", esc}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("soren invited ida"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("soren handed the escalation on, needing fraud>=1: ligner svindel"),
            std::string::npos)
      << r.out;

  r = Backline({"explain", esc}, mia);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  policy group default\n")) << r.out;
  EXPECT_NE(r.out.find("\n  ring everyone who can help: open\n"), std::string::npos) << r.out;
  std::vector<std::string> ida_line = Words(LineStartingWith(r.out, "  ida "));
  ASSERT_GE(ida_line.size(), 2u) << r.out;
  EXPECT_EQ(ida_line[1], "offered") << r.out;
  std::vector<std::string> mia_line = Words(LineStartingWith(r.out, "  mia "));
  ASSERT_GE(mia_line.size(), 2u) << r.out;
  EXPECT_EQ(mia_line[1], "offline") << r.out;
  EXPECT_NE(r.out.find("everyone who can help\n"), std::string::npos) << r.out;
  EXPECT_EQ(Backline({"explain", "esc-0000000000"}, mia).exit_code, 3);

  r = Backline({"stats", "--window", "1h"}, mia);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> header = Words(LineStartingWith(r.out, "key "));
  ASSERT_EQ(header.size(), 16u) << r.out;  // "offer p50" and the like are two words each
  EXPECT_EQ(header[1], "created") << r.out;
  std::vector<std::string> total = Words(LineStartingWith(r.out, "total "));
  ASSERT_EQ(total.size(), 12u) << r.out;
  EXPECT_EQ(total[1], "1") << r.out;  // created
  EXPECT_EQ(total[2], "1") << r.out;  // offered
  EXPECT_EQ(total[3], "1") << r.out;  // accepted
  EXPECT_EQ(total[7], "1") << r.out;  // waiting: offered to ida
  EXPECT_NE(r.out.find("\nby skill"), std::string::npos) << r.out;
  EXPECT_EQ(Words(LineStartingWith(r.out, "fraud ")).size(), 12u) << r.out;
  EXPECT_NE(r.out.find("\nby team"), std::string::npos) << r.out;
  EXPECT_EQ(Words(LineStartingWith(r.out, "cph-billing ")).size(), 12u) << r.out;
  EXPECT_LT(r.out.find("\nby skill"), r.out.find("\nby team")) << r.out;

  // Error paths.
  r = Backline({"stats"}, anna);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("supervisors"), std::string::npos) << r.err;
  EXPECT_EQ(Backline({"stats", "--window", "soon"}, mia).exit_code, 2);
  r = Backline({"take", "esc-0000000000"}, soren);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(Backline({"waiting", "--limit", "many"}, soren).exit_code, 2);
  r = Backline({"--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* command : {"reopen ESCALATION", "transfer ESCALATION --skill", "invite",
                              "waiting [--limit N]", "take ESCALATION", "explain", "stats"}) {
    EXPECT_NE(r.out.find(absl::StrCat("\n  ", command)), std::string::npos) << command;
  }
}

// With a ring that opens only after an hour, an escalation waits: the looking-for-help list,
// its events, and taking it by hand.
TEST_F(CliTest, WaitingEscalationsAreListedAndTaken) {
  stack_.reset();
  SharedRedis().Flush();
  ServerConfig config = TestConfig(SharedRedis());
  auto policy = router::ParseRoutingPolicy(kTeamFirstPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  config.routing.policy = *policy;
  stack_ = std::make_unique<TestStack>(config, Stack::kAll);

  const std::string admin = TokenOf("root", "admin");
  const std::string roster =
      "{\"id\":\"anna\",\"role\":\"agent\",\"team\":\"cph-billing\",\"site\":\"cph\","
      "\"languages\":[\"da\"]}\n"
      "{\"id\":\"ida\",\"role\":\"senior\",\"team\":\"cph-billing\",\"site\":\"cph\","
      "\"languages\":[\"da\"],\"skills\":{\"fraud\":3}}\n"
      "{\"id\":\"soren\",\"role\":\"senior\",\"team\":\"aar-billing\",\"site\":\"cph\","
      "\"languages\":[\"da\"],\"skills\":{\"billing\":4}}\n"
      "{\"id\":\"mia\",\"role\":\"supervisor\",\"team\":\"cph-ops\",\"site\":\"cph\","
      "\"languages\":[\"da\"],\"capacity\":0}\n";
  ASSERT_EQ(Backline({"admin", "roster", "apply", WriteFile("r.jsonl", roster)}, admin).exit_code,
            0);
  const std::string anna = TokenOf("anna", "agent");
  const std::string ida = TokenOf("ida", "senior");
  const std::string soren = TokenOf("soren", "senior");
  const std::string mia = TokenOf("mia", "supervisor");
  // Ida staffs the first ring (without billing), so the second does not open early.
  ASSERT_EQ(Backline({"presence", "set", "available"}, ida).exit_code, 0);
  ASSERT_EQ(Backline({"presence", "set", "available"}, soren).exit_code, 0);

  ProcessResult r = Backline(
      {"ask", "--skill", "billing:3", "--lang", "da", "--quiet", "faktura", "mangler"}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string esc(absl::StripAsciiWhitespace(r.out));
  ASSERT_TRUE(absl::StartsWith(esc, "esc-")) << r.out;

  r = Backline({"show", esc}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  QUEUED  thread thr-")) << r.out;
  // No escalation needing billing was offered lately, so no estimate of the wait.
  EXPECT_NE(r.out.find("\n  queued at position 1\n"), std::string::npos) << r.out;

  r = Backline({"waiting"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, esc + " * #1  [billing>=3, da]  anna: faktura mangler\n");
  r = Backline({"waiting", "--json"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"best_match\":true"), std::string::npos) << r.out;
  r = Backline({"waiting"}, ida);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nothing is waiting for you\n");
  r = Backline({"watch", "--cursor", "0", "--for", "1"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("WAITING " + esc + " * from anna [billing>=3, da]: faktura mangler"),
            std::string::npos)
      << r.out;

  r = Backline({"explain", esc}, mia);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  ring team seniors: open\n"), std::string::npos) << r.out;
  std::vector<std::string> ring = Words(LineStartingWith(r.out, "  ring everyone: "));
  ASSERT_EQ(ring.size(), 6u) << r.out;  // ring everyone: opens at HH:MM:SS UTC
  EXPECT_EQ(ring[2], "opens") << r.out;
  EXPECT_EQ(ring[4].size(), 8u) << r.out;
  EXPECT_EQ(ring[5], "UTC") << r.out;
  std::vector<std::string> soren_line = Words(LineStartingWith(r.out, "  soren "));
  ASSERT_EQ(soren_line.size(), 6u) << r.out;  // soren ring_not_open opens at HH:MM:SS everyone
  EXPECT_EQ(soren_line[1], "ring_not_open") << r.out;
  EXPECT_EQ(soren_line[5], "everyone") << r.out;

  r = Backline({"take", esc, "--quiet"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "thr-")) << r.out;
  r = Backline({"take", esc}, soren);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("no longer waiting"), std::string::npos) << r.err;
  r = Backline({"show", esc}, anna);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  ACCEPTED  helper soren  thread thr-")) << r.out;
  r = Backline({"watch", "--cursor", "0", "--for", "1"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nNO-LONGER-WAITING " + esc + "\n"), std::string::npos) << r.out;
  r = Backline({"waiting"}, soren);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nothing is waiting for you\n");
}

TEST_F(CliTest, ConfigFileSuppliesTargetAndToken) {
  const std::string admin = TokenOf("root", "admin");
  const std::string config = WriteFile(
      "config",
      absl::StrCat("# backline settings\ntarget = ", stack_->target(), "\ntoken = ", admin, "\n"));
  std::vector<std::string> argv = {
      BACKLINE_CLI_PATH, "admin", "roster", "apply", WriteFile("r.jsonl", kRoster), "--dry-run"};
  ProcessResult r = RunProcess(
      argv, {{"BACKLINE_CONFIG", config}, {"BACKLINE_TARGET", ""}, {"BACKLINE_TOKEN", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would apply: 2 added"), std::string::npos) << r.out;
}

// Anna and Søren, and Mia, the site's supervisor.
constexpr char kSupervisor[] =
    "{\"id\":\"mia\",\"name\":\"Mia Lund\",\"role\":\"supervisor\",\"team\":\"cph-ops\","
    "\"site\":\"cph\",\"languages\":[\"da\"],\"capacity\":0}\n";

// Anna, Søren and Mia on the roster, with a token each.
class CliRosterTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    admin_ = TokenOf("root", "admin");
    ASSERT_EQ(Backline({"admin", "roster", "apply",
                        WriteFile("r.jsonl", std::string(kRoster) + kSupervisor)},
                       admin_)
                  .exit_code,
              0);
    anna_ = TokenOf("anna", "agent");
    soren_ = TokenOf("soren", "senior");
    mia_ = TokenOf("mia", "supervisor");
  }

  // Anna asks for billing >= 3 in Danish (`words`: more options, then the question); the id.
  std::string Ask(const std::vector<std::string>& words) {
    std::vector<std::string> argv = {"ask", "--skill", "billing:3", "--lang", "da", "--quiet"};
    argv.insert(argv.end(), words.begin(), words.end());
    ProcessResult r = Backline(argv, anna_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::string(absl::StripAsciiWhitespace(r.out));
  }

  std::string admin_, anna_, soren_, mia_;
};

// Every command that talks to the server, with arguments that parse (ids that do not exist).
const std::vector<std::vector<std::string>>& ServerCommands() {
  static const auto* const commands = new std::vector<std::vector<std::string>>{
      {"presence", "set", "available"},
      {"presence", "get"},
      {"presence", "watch", "--person", "soren", "--for", "30"},
      {"person", "soren"},
      {"people"},
      {"who", "--skill", "billing"},
      {"ask", "--skill", "billing", "--lang", "da", "hjælp"},
      {"show", "esc-0000000000"},
      {"offers"},
      {"escalations"},
      {"queue"},
      {"accept", "esc-0000000000"},
      {"decline", "esc-0000000000"},
      {"cancel", "esc-0000000000"},
      {"resolve", "esc-0000000000"},
      {"reopen", "esc-0000000000"},
      {"transfer", "esc-0000000000", "--skill", "billing"},
      {"invite", "esc-0000000000", "soren"},
      {"waiting"},
      {"take", "esc-0000000000"},
      {"explain", "esc-0000000000"},
      {"stats"},
      {"say", "thr-0000000000", "hej"},
      {"history", "thr-0000000000"},
      {"threads"},
      {"open", "--with", "soren"},
      {"join", "thr-0000000000"},
      {"edit", "thr-0000000000", "1", "rettet"},
      {"delete", "thr-0000000000", "1"},
      {"read", "thr-0000000000"},
      {"rate", "thr-0000000000", "1", "helpful"},
      {"watch", "--for", "30"},
      {"tray"},
  };
  return *commands;
}

TEST_F(CliTest, EveryCommandRefusesABadTokenAndSaysWhatToDoWhenNoServerAnswers) {
  const std::string admin = TokenOf("root", "admin");
  const std::string roster = WriteFile("r.jsonl", kRoster);
  ASSERT_EQ(Backline({"admin", "roster", "apply", roster}, admin).exit_code, 0);
  std::vector<std::vector<std::string>> commands = ServerCommands();
  commands.push_back({"admin", "roster", "apply", roster});

  const std::string down = absl::StrCat("127.0.0.1:", FreePort());
  for (const std::vector<std::string>& command : commands) {
    const std::string name = absl::StrJoin(command, " ");
    ProcessResult r = Backline(command, "not-a-token");
    EXPECT_EQ(r.exit_code, 4) << name << ": " << r.err;
    EXPECT_NE(r.err.find("pass a valid token"), std::string::npos) << name << ": " << r.err;

    std::vector<std::string> argv = {BACKLINE_CLI_PATH, "--target", down, "--timeout", "2"};
    argv.insert(argv.end(), command.begin(), command.end());
    r = RunProcess(argv, {{"BACKLINE_TOKEN", admin}, {"BACKLINE_CONFIG", dir_ + "/none"}});
    EXPECT_EQ(r.exit_code, 7) << name << ": " << r.err;
    EXPECT_TRUE(absl::StartsWith(
        r.err, absl::StrCat("backline: cannot reach ", down,
                            " (connection refused): is a Backline server running there?")))
        << name << ": " << r.err;
    EXPECT_EQ(r.err.find("ipv4:"), std::string::npos) << "gRPC's own words: " << r.err;
    EXPECT_LT(r.elapsed, absl::Seconds(10)) << name;
  }

  // What needs no server works without one.
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"--help"},
           {"tray", "--help"},
           {"completion", "bash"},
           {"admin", "token", "--subject", "ida", "--role", "senior"}}) {
    std::vector<std::string> argv = {BACKLINE_CLI_PATH, "--target", down};
    argv.insert(argv.end(), command.begin(), command.end());
    ProcessResult r = RunProcess(
        argv, {{"BACKLINE_TOKEN_SECRET", kTestSecret}, {"BACKLINE_CONFIG", dir_ + "/none"}});
    EXPECT_EQ(r.exit_code, 0) << absl::StrJoin(command, " ") << ": " << r.err;
  }
}

TEST_F(CliRosterTest, UnknownIdsAreNotFound) {
  for (const std::vector<std::string>& command : ServerCommands()) {
    const bool names_an_id = std::any_of(command.begin(), command.end(), [](const std::string& w) {
      return absl::StrContains(w, "-0000000000");
    });
    if (!names_an_id) continue;
    // Joining is for supervisors; the others are Søren's to try.
    ProcessResult r = Backline(command, command[0] == "join" ? mia_ : soren_);
    EXPECT_EQ(r.exit_code, 3) << absl::StrJoin(command, " ") << ": " << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, "backline: no escalation esc-0000000000\n") ||
                absl::StartsWith(r.err, "backline: no thread thr-0000000000\n"))
        << absl::StrJoin(command, " ") << ": " << r.err;
  }
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"person", "nobody"},
           {"presence", "get", "nobody"},
           {"open", "--with", "nobody"},
           {"presence", "watch", "--person", "nobody", "--for", "5"}}) {
    ProcessResult r = Backline(command, mia_);
    EXPECT_EQ(r.exit_code, 3) << absl::StrJoin(command, " ") << ": " << r.err;
    EXPECT_NE(r.err.find("\"nobody\" is not on the roster"), std::string::npos) << r.err;
  }
  // Who may change anyone's status learns that nobody is not on the roster.
  for (const std::string& token : {admin_, mia_}) {
    ProcessResult r = Backline({"presence", "set", "break", "--person", "nobody"}, token);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("\"nobody\" is not on the roster"), std::string::npos) << r.err;
  }
  ProcessResult r = Backline({"admin", "roster", "apply", dir_ + "/missing.jsonl"}, admin_);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("cannot read " + dir_ + "/missing.jsonl"), std::string::npos) << r.err;
}

TEST_F(CliRosterTest, OffersEscalationsAndTheQueue) {
  ProcessResult r = Backline({"offers"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no offers for you now\n");

  ASSERT_EQ(Backline({"presence", "set", "available"}, soren_).exit_code, 0);
  const std::string esc = Ask({"--priority", "urgent", "kunden", "venter", "på", "linjen"});

  r = Backline({"offers"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> words = Words(r.out);
  ASSERT_GE(words.size(), 4u) << r.out;
  EXPECT_EQ(words[0], esc) << r.out;
  EXPECT_TRUE(absl::EndsWith(words[1], "s")) << r.out;  // seconds left, e.g. 15s
  EXPECT_NE(r.out.find(" left  URGENT  anna [billing>=3, da]: kunden venter på linjen\n"),
            std::string::npos)
      << r.out;
  r = Backline({"offers", "--json"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"id\":\"" + esc + "\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"deadline\":"), std::string::npos) << r.out;
  r = Backline({"offers"}, anna_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no offers for you now\n");

  r = Backline({"queue"}, mia_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  OFFERED to soren (")) << r.out;
  EXPECT_NE(r.out.find(" left)  URGENT  anna [billing>=3, da]: kunden venter på linjen\n"),
            std::string::npos)
      << r.out;

  ASSERT_EQ(Backline({"accept", esc}, soren_).exit_code, 0);
  r = Backline({"offers"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no offers for you now\n");
  for (const std::string& who : {anna_, soren_}) {
    r = Backline({"escalations"}, who);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, esc +
                         "  ACCEPTED helper soren  URGENT  anna [billing>=3, da]: kunden venter "
                         "på linjen\n");
  }
  r = Backline({"queue", "--json"}, mia_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"state\":\"ESCALATION_STATE_ACCEPTED\""), std::string::npos) << r.out;

  // Errors: the queue is for supervisors and team leaders; --limit is 1..200; no arguments.
  r = Backline({"queue"}, anna_);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("supervisors and team leaders"), std::string::npos) << r.err;
  EXPECT_EQ(Backline({"offers", "--limit", "0"}, soren_).exit_code, 2);
  EXPECT_EQ(Backline({"escalations", "--limit", "many"}, soren_).exit_code, 2);
  EXPECT_EQ(Backline({"offers", esc}, soren_).exit_code, 2);
  r = Backline({"resolve", esc}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Backline({"escalations"}, anna_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no open escalations of yours\n");
}

TEST_F(CliRosterTest, DeclineCancelAndJoin) {
  ASSERT_EQ(Backline({"presence", "set", "available"}, soren_).exit_code, 0);
  const std::string esc = Ask({"moms", "på", "gebyr"});

  // Declined by the only helper: it waits in the queue, and is not offered to him again.
  ProcessResult r = Backline({"decline", esc, "--reason", "på pause om lidt"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  QUEUED")) << r.out;
  r = Backline({"decline", esc}, soren_);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  r = Backline({"show", esc, "--json"}, anna_);
  EXPECT_NE(r.out.find("\"declined_by\":[\"soren\"]"), std::string::npos) << r.out;

  // Only the requester withdraws it, once.
  r = Backline({"cancel", esc}, soren_);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  r = Backline({"cancel", esc, "--reason", "kunden lagde på"}, anna_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, esc + "  CANCELLED")) << r.out;
  EXPECT_NE(r.out.find("kunden lagde på"), std::string::npos) << r.out;
  r = Backline({"cancel", esc}, anna_);
  EXPECT_EQ(r.exit_code, 5) << r.err;

  // A supervisor joins an escalation's thread of the site; a senior may not.
  const std::string second = Ask({"refusion"});
  r = Backline({"accept", second, "--quiet"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string thread(absl::StripAsciiWhitespace(r.out));
  r = Backline({"join", second}, mia_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, thread + "  escalation  anna, mia, soren  (" + second + ")"))
      << r.out;
  ASSERT_EQ(Backline({"say", thread, "jeg følger med"}, mia_).exit_code, 0);
  r = Backline({"join", thread}, soren_);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(Backline({"join"}, mia_).exit_code, 2);
}

// Every read prints JSON with --json: each line one JSON object.
TEST_F(CliRosterTest, EveryReadPrintsJson) {
  ASSERT_EQ(Backline({"presence", "set", "available"}, soren_).exit_code, 0);
  const std::string esc = Ask({"hvad nu"});
  ProcessResult r = Backline({"accept", esc, "--quiet"}, soren_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string thread(absl::StripAsciiWhitespace(r.out));
  ASSERT_EQ(Backline({"say", thread, "客户想退款"}, anna_).exit_code, 0);

  const std::vector<std::pair<std::string, std::vector<std::string>>> reads = {
      {soren_, {"presence", "get"}},
      {mia_, {"presence", "watch", "--person", "soren", "--for", "1"}},
      {anna_, {"person", "soren"}},
      {anna_, {"people"}},
      {anna_, {"who", "--skill", "billing"}},
      {anna_, {"show", esc}},
      {soren_, {"offers"}},
      {anna_, {"escalations"}},
      {mia_, {"queue"}},
      {soren_, {"waiting"}},
      {mia_, {"explain", esc}},
      {mia_, {"stats"}},
      {soren_, {"threads"}},
      {soren_, {"history", thread}},
      {soren_, {"read", thread}},
      {soren_, {"watch", "--cursor", "0", "--for", "1"}},
  };
  for (const auto& [token, command] : reads) {
    std::vector<std::string> argv = command;
    argv.push_back("--json");
    r = Backline(argv, token);
    const std::string name = absl::StrJoin(command, " ");
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    ASSERT_FALSE(r.out.empty()) << name;
    for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
      google::protobuf::Struct object;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &object).ok())
          << name << " printed: " << line;
    }
  }
  // The text arrives in JSON byte for byte, not escaped away.
  r = Backline({"history", thread, "--json"}, soren_);
  EXPECT_NE(r.out.find("客户想退款"), std::string::npos) << r.out;
}

// `backline completion bash`, loaded into bash, completes as a person typing would see it.
TEST_F(CliTest, BashCompletionCompletesCommandsOptionsAndValues) {
  WriteFile("roster.jsonl", kRoster);
  const std::string script =
      "source <(\"$BACKLINE\" completion bash) || exit 9\n"
      "complete -p backline >/dev/null || exit 10\n"
      "for line in \"$@\"; do\n"
      "  COMP_LINE=$line; COMP_POINT=${#line}\n"
      "  read -ra COMP_WORDS <<<\"$line\"; COMP_CWORD=${#COMP_WORDS[@]}\n"
      "  [[ $line == *' ' ]] || COMP_CWORD=$((COMP_CWORD - 1))\n"
      "  COMPREPLY=(); _backline backline\n"
      "  echo \"${COMPREPLY[*]}\"\n"
      "done\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"backline pre", "presence"},
      {"backline presence s", "set"},
      {"backline presence set a", "available"},
      {"backline --target 127.0.0.1:7400 wa", "waiting watch"},
      {"backline --json tr", "transfer tray"},
      {"backline of", "offers"},
      {"backline ask --sk", "--skill"},
      {"backline ask --priority u", "urgent"},
      {"backline admin ", "roster token"},
      {"backline admin roster ", "apply"},
      {"backline admin token --role s", "senior supervisor"},
      {"backline admin roster apply " + dir_ + "/ros", dir_ + "/roster.jsonl"},
      {"backline watch --until ", "offer message escalation"},
      {"backline watch --c", "--config --count --cursor"},
      {"backline completion ", "bash"},
      {"backline show esc-1 ", ""},
  };
  std::vector<std::string> argv = {"/bin/bash", "-c", script, "bash"};
  for (const auto& [line, expected] : cases) argv.push_back(line);
  argv.push_back("backline ");
  ProcessResult r = RunProcess(argv, {{"BACKLINE", BACKLINE_CLI_PATH}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  ASSERT_EQ(lines.size(), cases.size() + 2) << r.out;  // one per line, and the last newline
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(lines[i], cases[i].second) << "completing \"" << cases[i].first << "\"";
  }
  // Every command's first word, from the help, is offered at the start.
  const std::vector<std::string> first_words = Words(lines[cases.size()]);
  r = Backline({"--help"});
  const size_t from = r.out.find("commands:\n");
  const size_t to = r.out.find("\nglobal options:");
  ASSERT_TRUE(from != std::string::npos && to != std::string::npos) << r.out;
  int commands = 0;
  for (absl::string_view line : absl::StrSplit(r.out.substr(from, to - from), '\n')) {
    if (!absl::StartsWith(line, "  ") || absl::StartsWith(line, "   ")) continue;  // summaries
    const std::string word = Words(std::string(line))[0];
    EXPECT_NE(std::find(first_words.begin(), first_words.end(), word), first_words.end()) << word;
    ++commands;
  }
  EXPECT_GT(commands, 30);
}

}  // namespace
}  // namespace backline::testing
