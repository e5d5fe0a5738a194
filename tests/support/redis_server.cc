#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace backline::testing {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer(Options options) : options_(options) {
  char tmpl[] = "/tmp/backline-redis-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (d == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = d;
  port_ = FreePort();
  Start();
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

store::RedisOptions RedisServer::client_options() const {
  store::RedisOptions o;
  o.host = "127.0.0.1";
  o.port = port_;
  o.pool_size = 8;
  o.connect_timeout = absl::Milliseconds(300);
  o.command_timeout = absl::Milliseconds(1000);
  return o;
}

void RedisServer::Start() {
  if (pid_ > 0) return;
  const std::string port = absl::StrCat(port_);
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   port,
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.appendonly ? "yes" : "no",
                                   "--appendfsync",
                                   "everysec",
                                   "--enable-debug-command",
                                   "yes",
                                   "--loglevel",
                                   "warning",
                                   "--logfile",
                                   dir_ + "/redis.log",
                                   "--daemonize",
                                   "no"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start redis-server (is it installed?)");
  }
  store::RedisOptions o = client_options();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    store::RedisClient probe(o);
    auto r = probe.Command({"PING"});
    if (r.ok() && r->str == "PONG") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(absl::StrCat("redis-server did not answer on port ", port_));
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

store::RedisReply RedisServer::Command(std::initializer_list<absl::string_view> argv) {
  store::RedisClient client(client_options());
  auto r = client.Command(argv);
  if (!r.ok()) throw std::runtime_error(std::string(r.status().message()));
  return *r;
}

void RedisServer::Flush() { Command({"FLUSHALL"}); }

std::string RedisServer::Digest() {
  store::RedisClient client(client_options());
  auto keys = client.Command({"KEYS", "*"});
  if (!keys.ok()) throw std::runtime_error(std::string(keys.status().message()));
  std::vector<std::string> names;
  for (const auto& k : keys->elements) {
    if (!absl::EndsWith(k.str, ":instances")) names.push_back(k.str);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> argv = {"DEBUG", "DIGEST-VALUE"};
  argv.insert(argv.end(), names.begin(), names.end());
  auto digests = client.Command(argv);
  if (!digests.ok()) throw std::runtime_error(std::string(digests.status().message()));
  std::string out;
  for (size_t i = 0; i < names.size() && i < digests->elements.size(); ++i) {
    absl::StrAppend(&out, names[i], "=", digests->elements[i].str, ";");
  }
  return out;
}

RedisServer& SharedRedis() {
  static RedisServer* const server = new RedisServer();
  static const bool registered = [] {
    std::atexit([] { delete server; });
    return true;
  }();
  (void)registered;
  return *server;
}

long long RedisReadsProcessed(store::RedisClient& redis) {
  auto reply = redis.Command({"INFO", "stats"});
  if (!reply.ok()) return -1;
  const std::string info = reply->AsString();
  const std::string field = "total_reads_processed:";
  const size_t at = info.find(field);
  return at == std::string::npos ? -1 : std::atoll(info.c_str() + at + field.size());
}

}  // namespace backline::testing
