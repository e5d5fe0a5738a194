// The real `backline` binary against a real server: the escalation flow step by step, and the
// error paths with their documented exit codes and messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
    char tmpl[] = "/tmp/backline-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { RunProcess({"/bin/rm", "-rf", dir_}); }

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
  std::string dir_;
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

}  // namespace
}  // namespace backline::testing
