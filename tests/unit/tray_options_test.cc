// Unit tests for the desktop tray's command line (cli/qt_tray/tray_options): flags before the
// environment and the settings file, the token read from a file, the person it names, and
// precise errors.
#include "cli/qt_tray/tray_options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "cli/words.h"
#include "services/common/token.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::qt_tray {
namespace {

using Env = std::map<std::string, std::string>;

std::function<std::string(const std::string&)> FromMap(const Env& env) {
  return [env](const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
}

std::string TokenFor(const std::string& id) {
  return *TokenCodec(testing::kTestSecret)
              .Issue({id, v1::ROLE_SENIOR}, absl::Hours(1), absl::Now());
}

class TrayOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file_ = dir_ + "/soren.token";
    std::ofstream(token_file_) << "  " << TokenFor("soren") << "\n";
  }

  testing::TempDir tmp_{"backline-tray-options"};
  const std::string dir_ = tmp_.path();
  std::string token_file_;
};

TEST_F(TrayOptionsTest, FlagsComeBeforeTheEnvironment) {
  auto o = ParseTrayOptions(
      {"--target", "10.0.0.1:7400", "--token-file", token_file_, "--status", "on-call",
       "--state-file", "/tmp/s.json", "--hidden"},
      FromMap({{"BACKLINE_TARGET", "elsewhere:1"}, {"BACKLINE_TOKEN", TokenFor("mei")}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "10.0.0.1:7400");
  EXPECT_EQ(o->me, "mei") << "a token given directly wins over a token file, as in the CLI";
  ASSERT_TRUE(o->status.has_value());
  EXPECT_EQ(*o->status, v1::PRESENCE_STATUS_ON_CALL);
  EXPECT_EQ(o->state_file, "/tmp/s.json");
  EXPECT_TRUE(o->hidden);
}

TEST_F(TrayOptionsTest, TheEnvironmentAndDefaults) {
  auto o = ParseTrayOptions({}, FromMap({{"BACKLINE_TOKEN_FILE", token_file_}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "127.0.0.1:7400");
  EXPECT_FALSE(absl::StrContains(o->token, " ") || absl::StrContains(o->token, "\n"))
      << "read trimmed";
  EXPECT_EQ(o->me, "soren");
  EXPECT_FALSE(o->status.has_value());
  EXPECT_FALSE(o->hidden);
  o = ParseTrayOptions(
      {}, FromMap({{"BACKLINE_TARGET", "db:7400"}, {"BACKLINE_TOKEN", TokenFor("ida")}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "db:7400");
  EXPECT_EQ(o->me, "ida");
}

TEST_F(TrayOptionsTest, TheSettingsFileSharedWithTheCliComesLast) {
  const std::string config = dir_ + "/config";
  std::ofstream(config) << "# the CLI's settings\ntarget = cfg:7400\ntoken_file = " << token_file_
                        << "\n";
  auto o = ParseTrayOptions({}, FromMap({{"BACKLINE_CONFIG", config}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "cfg:7400");
  EXPECT_EQ(o->me, "soren");
  // Found under XDG_CONFIG_HOME or HOME as the CLI finds it; --config names another file.
  std::filesystem::create_directories(dir_ + "/xdg/backline");
  std::filesystem::create_directories(dir_ + "/home/.config/backline");
  std::filesystem::copy_file(config, dir_ + "/xdg/backline/config");
  std::ofstream(dir_ + "/home/.config/backline/config") << "target=home:7400\ntoken="
                                                        << TokenFor("ida") << "\n";
  o = ParseTrayOptions({}, FromMap({{"XDG_CONFIG_HOME", dir_ + "/xdg"}, {"HOME", dir_ + "/home"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "cfg:7400");
  o = ParseTrayOptions({}, FromMap({{"HOME", dir_ + "/home"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "home:7400");
  EXPECT_EQ(o->me, "ida");
  o = ParseTrayOptions({"--config", config}, FromMap({{"HOME", dir_ + "/home"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->me, "soren");
  // Flags and the environment come first.
  o = ParseTrayOptions({"--target", "flag:1"},
                       FromMap({{"BACKLINE_CONFIG", config}, {"BACKLINE_TOKEN", TokenFor("mei")}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "flag:1");
  EXPECT_EQ(o->me, "mei");
}

TEST_F(TrayOptionsTest, ErrorsSayWhatIsWrong) {
  auto o = ParseTrayOptions({}, FromMap({}));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(o.status().message(), "--token-file")) << o.status();
  o = ParseTrayOptions({"--token-file", dir_ + "/missing"}, FromMap({}));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(o.status().message(), "missing")) << o.status();
  o = ParseTrayOptions({"--token", "not-a-jwt"}, FromMap({}));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  o = ParseTrayOptions({"--token-file", token_file_, "--status", "asleep"}, FromMap({}));
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(o.status().message(), "asleep")) << o.status();
  o = ParseTrayOptions({"--token-file", token_file_, "--colour", "red"}, FromMap({}));
  EXPECT_EQ(o.status().message(), "unknown option --colour");
  o = ParseTrayOptions({"--token-file", token_file_, "soren"}, FromMap({}));
  EXPECT_EQ(o.status().message(), "unexpected argument \"soren\"");
}

TEST_F(TrayOptionsTest, HelpNeedsNothingElse) {
  auto o = ParseTrayOptions({"--help"}, FromMap({}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->help);
  EXPECT_TRUE(absl::StrContains(TrayUsage(), "--token-file"));
}

TEST(TokenSubjectTest, ReadsTheSubjectWithoutTheSecret) {
  EXPECT_EQ(*TokenSubject(TokenFor("soren")), "soren");
  EXPECT_EQ(TokenSubject("a.b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenSubject("a.!!!.c").status().code(), absl::StatusCode::kInvalidArgument);
  // {"iss":"backline"}: no subject.
  EXPECT_EQ(TokenSubject("e30.eyJpc3MiOiJiYWNrbGluZSJ9.x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseStatusWordTest, TakesTheCliSpellings) {
  EXPECT_EQ(*cli::ParseStatusWord("available"), v1::PRESENCE_STATUS_AVAILABLE);
  EXPECT_EQ(*cli::ParseStatusWord("wrap-up"), v1::PRESENCE_STATUS_WRAP_UP);
  EXPECT_EQ(*cli::ParseStatusWord("ON_CALL"), v1::PRESENCE_STATUS_ON_CALL);
  EXPECT_EQ(cli::ParseStatusWord("unspecified").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace backline::qt_tray
