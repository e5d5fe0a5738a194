// The installed client package, as an application's build sees it: `cmake --install
// --component client` into a temp prefix; the example client-lib/examples/desk_feed configured
// and built against it by a separate cmake (find_package(Backline CONFIG)), and again with the
// flags of `pkg-config backline-client`; both binaries run against a real server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

#if !defined(BACKLINE_SOURCE_DIR) || !defined(BACKLINE_BUILD_DIR) ||       \
    !defined(BACKLINE_CMAKE_COMMAND) || !defined(BACKLINE_CXX_COMPILER) || \
    !defined(BACKLINE_PKG_CONFIG)
#error "the paths of the build must be defined"
#endif

namespace backline::testing {
namespace {

constexpr absl::Duration kStepTimeout = absl::Seconds(120);

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Compiler flags the installed libraries were built with and a consumer must share.
std::string SanitizerFlags() {
  const std::string sanitize = BACKLINE_SANITIZE;
  return sanitize.empty() ? "" : absl::StrCat(" -fsanitize=", sanitize, " -fno-omit-frame-pointer");
}

class ClientInstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    prefix_ = dir_ + "/prefix";
  }

  // Runs a build step; fails the test with its output when it fails.
  void Step(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env = {}) {
    ProcessResult r = RunProcess(argv, env, "", kStepTimeout);
    ASSERT_EQ(r.exit_code, 0) << absl::StrJoin(argv, " ") << "\n" << r.out << r.err;
  }

  TempDir tmp_{"backline-install"};
  const std::string dir_ = tmp_.path();
  std::string prefix_;
};

TEST_F(ClientInstallTest, ExampleBuildsAgainstTheInstalledPackageAndRuns) {
  ASSERT_NO_FATAL_FAILURE(Step({BACKLINE_CMAKE_COMMAND, "--install", BACKLINE_BUILD_DIR,
                                "--component", "client", "--prefix", prefix_}));
  const std::string libdir = absl::StrCat(prefix_, "/", BACKLINE_INSTALL_LIBDIR);
  for (const std::string& f :
       {prefix_ + "/include/backline/client.h", prefix_ + "/include/backline/v1/messaging.pb.h",
        prefix_ + "/include/backline/v1/common.pb.h", libdir + "/libbackline_client.a",
        libdir + "/libbackline_proto.a", libdir + "/cmake/Backline/BacklineConfig.cmake",
        libdir + "/pkgconfig/backline-client.pc"}) {
    EXPECT_TRUE(Exists(f)) << f << " was not installed";
  }
  // Nothing of the server is.
  EXPECT_FALSE(Exists(prefix_ + "/bin"));

  // A separate build that knows nothing of this tree but the prefix.
  const std::string example = std::string(BACKLINE_SOURCE_DIR) + "/client-lib/examples/desk_feed";
  const std::string flags = "-Wall -Wextra -Werror" + SanitizerFlags();
  std::vector<std::string> configure = {
      BACKLINE_CMAKE_COMMAND,
      "-S",
      example,
      "-B",
      dir_ + "/build",
      "-DCMAKE_BUILD_TYPE=Release",
      "-DCMAKE_PREFIX_PATH=" + prefix_,
      std::string("-DCMAKE_CXX_COMPILER=") + BACKLINE_CXX_COMPILER,
      "-DCMAKE_CXX_FLAGS=" + flags,
      "-DCMAKE_EXE_LINKER_FLAGS=" + SanitizerFlags()};
  if (!std::string(BACKLINE_CXX_LAUNCHER).empty()) {
    configure.push_back(std::string("-DCMAKE_CXX_COMPILER_LAUNCHER=") + BACKLINE_CXX_LAUNCHER);
  }
  ASSERT_NO_FATAL_FAILURE(Step(configure));
  ASSERT_NO_FATAL_FAILURE(Step({BACKLINE_CMAKE_COMMAND, "--build", dir_ + "/build"}));

  // The same example from the pkg-config file's flags alone.
  ProcessResult pc = RunProcess({BACKLINE_PKG_CONFIG, "--cflags", "--libs", "backline-client"},
                                {{"PKG_CONFIG_PATH", libdir + "/pkgconfig"}}, "", kStepTimeout);
  ASSERT_EQ(pc.exit_code, 0) << pc.err;
  EXPECT_NE(pc.out.find("-lbackline_client"), std::string::npos) << pc.out;
  std::vector<std::string> compile = {BACKLINE_CXX_COMPILER, "-std=c++17"};
  for (absl::string_view f : absl::StrSplit(flags, ' ', absl::SkipEmpty())) compile.emplace_back(f);
  compile.push_back(example + "/desk_feed.cc");
  compile.push_back("-o");
  compile.push_back(dir_ + "/desk_feed_pc");
  for (absl::string_view f : absl::StrSplit(pc.out, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    compile.emplace_back(f);
  }
  ASSERT_NO_FATAL_FAILURE(Step(compile));

  // Both run against a real server: the feed connects, the message is posted and comes back on
  // the feed.
  TestStack stack(SharedRedis());
  stack.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT), MakePerson("soren", v1::ROLE_SENIOR)});
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto thread = anna->OpenDirectThread("soren");
  ASSERT_TRUE(thread.ok()) << thread.status();
  const std::string token_file = dir_ + "/soren.token";
  std::ofstream(token_file) << stack.Token("soren", v1::ROLE_SENIOR) << "\n";
  const std::vector<std::pair<std::string, std::string>> runs = {
      {dir_ + "/build/desk_feed", "hej fra pakken"},
      {dir_ + "/desk_feed_pc", "hallo via pkg-config"}};
  for (const auto& [binary, text] : runs) {
    ProcessResult r = RunProcess({binary, "--target", stack.target(), "--token-file", token_file,
                                  "--thread", thread->id(), "--say", text, "--for", "20"},
                                 {}, "", absl::Seconds(30));
    EXPECT_EQ(r.exit_code, 0) << binary << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("STATE CONNECTED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(absl::StrCat("from soren: ", text)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("STATE STOPPED"), std::string::npos) << r.out;
  }
  v1::ListMessagesRequest list;
  list.set_thread_id(thread->id());
  auto messages = anna->ListMessages(list);
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->messages_size(), 2);
  EXPECT_EQ(messages->messages(0).text(), "hej fra pakken");
  EXPECT_EQ(messages->messages(1).text(), "hallo via pkg-config");
}

}  // namespace
}  // namespace backline::testing
