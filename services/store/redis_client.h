// A thread-safe Redis client over hiredis: a bounded pool of connections, each used by one
// caller at a time, with connect and command timeouts. A lost connection, a timeout or a server
// that is loading or read-only becomes UNAVAILABLE (and the connection is dropped and re-made on
// next use), never a crash or a hang past the command timeout. Once a call went unanswered for
// the whole command timeout (Redis hung, or its host; waiting that long for a free connection
// does not count), only one caller at a time tries Redis until it answers again; the others get
// UNAVAILABLE at once instead of each waiting out the timeout in turn. No hiredis type appears
// here: this header and redis_client.cc are the only places that know hiredis.
//
//   RedisClient redis(options);
//   absl::StatusOr<RedisReply> r = redis.Command({"HGET", key, "status"});
//   absl::StatusOr<RedisReply> s = redis.Eval(kReserveScript, keys, args);
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace backline::store {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // AUTH when not empty
  int db = 0;
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Bound on one command's round trip; also the longest a caller waits for a free connection.
  absl::Duration command_timeout = absl::Seconds(2);
  // How long a caller polls for the reply before its read blocks (zero: block at once). Redis
  // mostly answers within tens of microseconds; a thread put to sleep and woken again costs
  // more than that, in CPU and in latency, above all on a virtual machine. A connection whose
  // reply did not come in time blocks at once for its next few calls (a busy machine).
  absl::Duration reply_spin = absl::Microseconds(50);
};

// Parses `host:port`, `redis://host:port/db` or `redis://:password@host:port/db`.
absl::StatusOr<RedisOptions> ParseRedisAddress(absl::string_view address);

// A reply, copied out of hiredis.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray, kError };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
  // The string of a kString/kStatus reply, the decimal of a kInteger, "" otherwise.
  std::string AsString() const;
  // The integer of a kInteger reply or a numeric string; `fallback` otherwise.
  long long AsInteger(long long fallback = 0) const;
};

// A Lua script, identified by the SHA1 of its source. Run it with RedisClient::Eval, which uses
// EVALSHA and loads the script again when the server answers NOSCRIPT (e.g. after a restart).
class RedisScript {
 public:
  RedisScript(std::string name, std::string source);
  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string name_;
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command. A Redis error reply is returned as a kError reply, not as a status, except
  // for the conditions that mean "try again later" (LOADING, BUSY, MASTERDOWN, READONLY, ...),
  // which become UNAVAILABLE.
  absl::StatusOr<RedisReply> Command(absl::Span<const std::string> argv);
  absl::StatusOr<RedisReply> Command(std::initializer_list<absl::string_view> argv);

  // Sends several commands in one round trip and returns their replies in order.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // EVALSHA with automatic reload. An error raised by the script comes back as INTERNAL.
  absl::StatusOr<RedisReply> Eval(const RedisScript& script, absl::Span<const std::string> keys,
                                  absl::Span<const std::string> args);
  // Several script calls in one round trip (one more for calls the server answers NOSCRIPT,
  // sent again as EVAL), run by Redis in order, replies in order; an error one call raises is
  // that call's INTERNAL status. Fails as a whole only when Redis does.
  struct ScriptInvocation {
    std::vector<std::string> keys;
    std::vector<std::string> args;
    // The script to run (never null).
    const RedisScript* script = nullptr;
  };
  absl::StatusOr<std::vector<absl::StatusOr<RedisReply>>> EvalMany(
      const std::vector<ScriptInvocation>& calls);

  const RedisOptions& options() const { return options_; }

  // True from a call that went unanswered for the whole command timeout until Redis answers.
  bool hung() const { return hung_.load(std::memory_order_acquire); }
  // Replies waited for at once, without polling, because the connection's previous poll ran out
  // of its budget (RedisOptions::reply_spin).
  int64_t unpolled_waits() const { return unpolled_waits_.load(std::memory_order_relaxed); }

 private:
  class Connection;
  class Lease;
  class Attempt;
  absl::StatusOr<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> conn, bool healthy);

  const RedisOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // connections idle or leased
  std::atomic<bool> hung_{false};
  std::atomic<bool> probing_{false};  // a caller is trying Redis while it is hung
  std::atomic<int64_t> unpolled_waits_{0};
};

// Holds one connection in SUBSCRIBE mode on its own thread and hands every message to a
// callback. Reconnects with backoff when the connection drops; `on_connected` runs after every
// (re)subscription so that the owner can catch up on anything published while it was away.
class RedisSubscriber {
 public:
  using MessageFn = std::function<void(absl::string_view channel, absl::string_view message)>;
  using ConnectedFn = std::function<void()>;

  RedisSubscriber(RedisOptions options, std::vector<std::string> channels, MessageFn on_message,
                  ConnectedFn on_connected);
  // Stops the thread and closes the connection.
  ~RedisSubscriber();

  // True while subscribed.
  bool connected() const { return connected_.load(); }

 private:
  void Run();

  const RedisOptions options_;
  const std::vector<std::string> channels_;
  const MessageFn on_message_;
  const ConnectedFn on_connected_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;  // socket of the live connection, for shutdown()
  absl::CondVar stop_cv_;
  std::thread thread_;
};

}  // namespace backline::store
