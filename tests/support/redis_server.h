// A real redis-server for tests: started on a free loopback port with its data in a fresh temp
// directory, stopped (and the directory removed) at the end. Tests can stop and restart it on
// the same port to exercise "Redis down" paths.
//
//   RedisServer& redis = SharedRedis();   // one per test binary
//   redis.Flush();                        // between tests
#pragma once

#include <sys/types.h>

#include <string>

#include "services/store/redis_client.h"

namespace backline::testing {

class RedisServer {
 public:
  struct Options {
    // Append-only file with fsync every second, as production runs it.
    bool appendonly = false;
  };
  explicit RedisServer(Options options);
  RedisServer() : RedisServer(Options{}) {}
  ~RedisServer();

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // Client options for this server, with short timeouts suited to tests.
  store::RedisOptions client_options() const;

  // Stops the server the hard way (SIGKILL) or politely (SHUTDOWN semantics via SIGTERM).
  void Kill();
  void Stop();
  // Starts it again on the same port and directory; waits until it answers.
  void Start();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Deletes every key.
  void Flush();
  // A digest of the dataset: equal digests mean no data changed. The lease that chat instances
  // renew in the background (`*:instances`) is left out: it is a heartbeat, not data.
  std::string Digest();
  // Runs one command on a fresh connection.
  store::RedisReply Command(std::initializer_list<absl::string_view> argv);

 private:
  Options options_;
  int port_ = 0;
  std::string dir_;
  pid_t pid_ = -1;
};

// The server shared by all tests of one binary (started on first use).
RedisServer& SharedRedis();

// A free TCP port on 127.0.0.1 (bound once to find it, then released).
int FreePort();

// Redis's count of the reads it made from its clients so far (INFO stats), -1 when it cannot
// be read. Ask on a connection kept open: closing one is a read too, and so is this INFO.
long long RedisReadsProcessed(store::RedisClient& redis);

}  // namespace backline::testing
