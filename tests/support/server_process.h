// backline-server as a process of its own on a port of its own, which a test kills, freezes
// and starts again on the same port, with a configuration file of the test's choosing.
//
//   ServerProcess server(BACKLINE_SERVER_PATH, dir, SharedRedis().port(),
//                        R"({"presence": {"liveness_timeout_seconds": 1}})");
//   ASSERT_NO_FATAL_FAILURE(server.Start());
//   server.Kill();                               // SIGKILL
//   ASSERT_NO_FATAL_FAILURE(server.Start());     // same port
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "tests/support/process.h"

namespace backline::testing {

class ServerProcess {
 public:
  // `dir` holds the configuration (`config_json`) and the token secret (kTestSecret).
  ServerProcess(std::string binary, const std::string& dir, int redis_port,
                const std::string& config_json);

  // Starts the server and waits (up to `timeout`) until it accepts connections; fails the test
  // otherwise.
  void Start(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL: no goodbye, no released sessions.
  void Kill();
  // SIGSTOP: the connections stay open but nothing answers, as with a hung host.
  void Freeze();

  std::string target() const;
  // The running server's process id (-1 when not running).
  pid_t pid() const { return process_ ? process_->pid() : -1; }

 private:
  const std::string binary_;
  const int port_;
  const int redis_port_;
  const std::string config_;
  const std::string secret_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace backline::testing
