#include "tests/support/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "backline/client.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_stack.h"

namespace backline::testing {

ServerProcess::ServerProcess(std::string binary, const std::string& dir, int redis_port,
                             const std::string& config_json)
    : binary_(std::move(binary)),
      port_(FreePort()),
      redis_port_(redis_port),
      config_(dir + "/server.json"),
      secret_(dir + "/token.secret") {
  std::ofstream(secret_) << kTestSecret << "\n";
  std::ofstream(config_) << config_json;
}

void ServerProcess::Start(absl::Duration timeout) {
  process_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      binary_, "--config", config_, "--listen", target(), "--redis",
      absl::StrCat("127.0.0.1:", redis_port_), "--token_secret_file", secret_});
  ClientOptions o;
  o.target = target();
  ASSERT_TRUE(Client(o).WaitForConnected(timeout)) << "backline-server did not come up";
}

void ServerProcess::Kill() {
  ASSERT_TRUE(process_) << "not running";
  process_->Stop(SIGKILL);
  process_.reset();
}

void ServerProcess::Freeze() { ::kill(process_->pid(), SIGSTOP); }

std::string ServerProcess::target() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace backline::testing
