// Builds and runs one call of a Backline Lua script: keys (in the order added; 1-based indexes
// for the script), the common argument header (event channel, retention, now), the script's own
// arguments, and the events to append when the script commits. See lua/prelude.lua for the
// layout the scripts read.
//
//   ScriptCall call(events_config, now_ms);
//   int esc = call.Key(keys.Escalation(id));
//   call.Arg(expected_version);
//   call.Event(helper, offer_event_bytes);   // appended only if the script commits
//   absl::StatusOr<RedisReply> r = call.Run(redis, script);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"

namespace backline::store {

// How events are kept and announced.
struct EventLogConfig {
  // Entries kept per user (approximate: Redis trims whole nodes).
  int64_t max_len = 10000;
  // Age after which entries are dropped.
  absl::Duration max_age = absl::Hours(24 * 7);
};

// A script with the shared prelude in front.
RedisScript MakeScript(std::string name, absl::string_view body);

class ScriptCall {
 public:
  ScriptCall(const Keys& keys, const EventLogConfig& config, int64_t now_ms);

  // Appends a key and returns its 1-based index in KEYS.
  int Key(const std::string& key);
  void Arg(std::string value) { args_.push_back(std::move(value)); }
  void Arg(int64_t value);
  // Queues an event for `user`'s log; the script appends it when it commits. Its keys go after
  // every key added with Key(), so a script's own keys keep their positions. `origin`, when
  // set, names the desktop session of `user` the event came from: it is announced with the
  // event (not stored), and that session's stream is not sent it back (see EventHub).
  void Event(absl::string_view user, std::string payload, absl::string_view origin = "");

  absl::StatusOr<RedisReply> Run(RedisClient& redis, const RedisScript& script);
  // What Run would send, for RedisClient::EvalMany (the call is spent).
  RedisClient::ScriptInvocation Build(const RedisScript& script);

 private:
  // The arguments (header, own, events), adding the events' and the indexes' keys.
  std::vector<std::string> Argv();

  const Keys& keys_;
  std::vector<std::string> key_list_;
  std::vector<std::string> header_;              // ARGV[1..4]
  std::vector<std::string> header_after_index_;  // ARGV[6..7]
  std::vector<std::string> args_;
  struct QueuedEvent {
    std::string user;
    std::string origin;
    std::string payload;
  };
  std::vector<QueuedEvent> events_;
};

// Defines `const RedisScript& fn()`: the script `source` with the prelude in front, built once.
#define BL_DEFINE_SCRIPT(fn, source)                                                    \
  const ::backline::store::RedisScript& fn() {                                          \
    static const auto* const script =                                                   \
        new ::backline::store::RedisScript(::backline::store::MakeScript(#fn, source)); \
    return *script;                                                                     \
  }

// The status word a script returned first (`OK`, `CONFLICT`, ...), "" when not an array.
std::string ScriptStatus(const RedisReply& reply);

}  // namespace backline::store
