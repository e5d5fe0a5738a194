#include "services/store/script_call.h"

#include "absl/strings/str_cat.h"
#include "services/store/store_lua.h"

namespace backline::store {

RedisScript MakeScript(std::string name, absl::string_view body) {
  return RedisScript(std::move(name), absl::StrCat(kPreludeLua, "\n", body));
}

ScriptCall::ScriptCall(const Keys& keys, const EventLogConfig& config, int64_t now_ms)
    : keys_(keys) {
  header_ = {keys.EventChannel(), absl::StrCat(config.max_len),
             absl::StrCat(absl::ToInt64Milliseconds(config.max_age)), absl::StrCat(now_ms)};
  header_after_index_ = {keys.RoutingChannel(), keys.PresenceChannel()};
}

int ScriptCall::Key(const std::string& key) {
  key_list_.push_back(key);
  return static_cast<int>(key_list_.size());
}

void ScriptCall::Arg(int64_t value) { args_.push_back(absl::StrCat(value)); }

void ScriptCall::Event(absl::string_view user, std::string payload, absl::string_view origin) {
  events_.push_back({std::string(user), std::string(origin), std::move(payload)});
}

absl::StatusOr<RedisReply> ScriptCall::Run(RedisClient& redis, const RedisScript& script) {
  const std::vector<std::string> argv = Argv();
  return redis.Eval(script, key_list_, argv);
}

RedisClient::ScriptInvocation ScriptCall::Build(const RedisScript& script) {
  std::vector<std::string> argv = Argv();
  return {std::move(key_list_), std::move(argv), &script};
}

std::vector<std::string> ScriptCall::Argv() {
  std::vector<std::string> argv;
  argv.reserve(header_.size() + 4 + args_.size() + 4 * events_.size());
  argv.insert(argv.end(), header_.begin(), header_.end());
  // ARGV[5]: where the event block starts (1-based).
  argv.push_back(absl::StrCat(header_.size() + 1 + header_after_index_.size() + args_.size() + 1));
  argv.insert(argv.end(), header_after_index_.begin(), header_after_index_.end());
  argv.insert(argv.end(), args_.begin(), args_.end());
  argv.push_back(absl::StrCat(events_.size()));
  for (QueuedEvent& e : events_) {
    argv.push_back(absl::StrCat(Key(keys_.Events(e.user))));
    argv.push_back(absl::StrCat(Key(keys_.EventsLast(e.user))));
    // Announced as `user` or `user origin` (neither holds a space); only the log is per user.
    argv.push_back(e.origin.empty() ? std::move(e.user) : absl::StrCat(e.user, " ", e.origin));
    argv.push_back(std::move(e.payload));
  }
  events_.clear();
  // Every script may keep the presence indexes (bl_refresh_offerable): always the last two keys.
  Key(keys_.OnCallIndex());
  Key(keys_.LoadIndex());
  return argv;
}

std::string ScriptStatus(const RedisReply& reply) {
  if (reply.is_array() && !reply.elements.empty()) return reply.elements[0].AsString();
  return reply.AsString();
}

}  // namespace backline::store
