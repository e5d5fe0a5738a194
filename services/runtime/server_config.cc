#include "services/runtime/server_config.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "services/common/token.h"
#include "services/common/validation.h"

ABSL_FLAG(std::string, config, "", "JSON configuration file (see deploy/backline.json)");
ABSL_FLAG(std::string, listen, "", "address to listen on, host:port (default 127.0.0.1:7400)");
ABSL_FLAG(std::string, redis, "", "Redis address: host:port or redis://[:password@]host:port/db");
ABSL_FLAG(std::string, key_prefix, "", "prefix of every Redis key (default bl)");
ABSL_FLAG(std::string, token_secret_file, "",
          "file holding the token signing secret (or set BACKLINE_TOKEN_SECRET)");

namespace backline {
namespace {

using nlohmann::json;

// Reads an optional member of `obj` into `out`, checking type and range.
template <typename T>
absl::Status Read(const json& obj, const char* name, const std::string& path, T* out,
                  double min = 0, double max = 1e12) {
  auto it = obj.find(name);
  if (it == obj.end()) return absl::OkStatus();
  const std::string field = absl::StrCat(path, name);
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      *out = it->get<std::string>();
    } else {
      const double v = it->get<double>();
      if (v < min || v > max) {
        return absl::InvalidArgumentError(
            absl::StrCat("config ", field, ": ", v, " is outside ", min, "..", max));
      }
      *out = static_cast<T>(v);
    }
  } catch (const json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat("config ", field, ": wrong type"));
  }
  return absl::OkStatus();
}

absl::Status ReadSeconds(const json& obj, const char* name, const std::string& path,
                         absl::Duration* out, double min, double max) {
  double s = absl::ToDoubleSeconds(*out);
  BL_RETURN_IF_ERROR(Read(obj, name, path, &s, min, max));
  *out = absl::Seconds(s);
  return absl::OkStatus();
}

// A Redis address, keeping the settings already read (pool, timeouts, spin).
absl::StatusOr<store::RedisOptions> WithRedisAddress(const store::RedisOptions& settings,
                                                     absl::string_view address) {
  auto opts = store::ParseRedisAddress(address);
  if (!opts.ok()) return opts.status();
  opts->pool_size = settings.pool_size;
  opts->command_timeout = settings.command_timeout;
  opts->reply_spin = settings.reply_spin;
  return opts;
}

}  // namespace

absl::Status LoadConfigFile(const std::string& path, ServerConfig* c) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": ", e.what()));
  }
  if (!j.is_object()) return absl::InvalidArgumentError("config file: must be a JSON object");
  BL_RETURN_IF_ERROR(Read(j, "listen", "", &c->listen));
  std::string redis;
  BL_RETURN_IF_ERROR(Read(j, "redis", "", &redis));
  if (!redis.empty()) {
    BL_ASSIGN_OR_RETURN(c->redis, WithRedisAddress(c->redis, redis));
  }
  BL_RETURN_IF_ERROR(Read(j, "redis_pool_size", "", &c->redis.pool_size, 1, 256));
  double timeout_ms = absl::ToDoubleMilliseconds(c->redis.command_timeout);
  BL_RETURN_IF_ERROR(Read(j, "redis_timeout_ms", "", &timeout_ms, 10, 60000));
  c->redis.command_timeout = absl::Milliseconds(timeout_ms);
  double spin_us = absl::ToDoubleMicroseconds(c->redis.reply_spin);
  BL_RETURN_IF_ERROR(Read(j, "redis_reply_spin_us", "", &spin_us, 0, 1000));
  c->redis.reply_spin = absl::Microseconds(spin_us);
  BL_RETURN_IF_ERROR(Read(j, "key_prefix", "", &c->key_prefix));
  std::string secret_file;
  BL_RETURN_IF_ERROR(Read(j, "token_secret_file", "", &secret_file));
  if (!secret_file.empty()) {
    auto secret = LoadTokenSecret(secret_file);
    if (!secret.ok()) return secret.status();
    c->token_secret = *secret;
  }
  BL_RETURN_IF_ERROR(Read(j, "max_message_bytes", "", &c->messaging.max_text_bytes, 1, 1 << 20));
  BL_RETURN_IF_ERROR(ReadSeconds(j, "shutdown_grace_seconds", "", &c->shutdown_grace, 0, 600));
  if (auto it = j.find("event_retention"); it != j.end()) {
    BL_RETURN_IF_ERROR(Read(*it, "max_events", "event_retention.", &c->events.max_len, 10, 1e8));
    double hours = absl::ToDoubleHours(c->events.max_age);
    BL_RETURN_IF_ERROR(Read(*it, "max_age_hours", "event_retention.", &hours, 0.001, 24 * 365));
    c->events.max_age = absl::Hours(hours);
  }
  if (auto it = j.find("streams"); it != j.end()) {
    BL_RETURN_IF_ERROR(
        ReadSeconds(*it, "stall_timeout_seconds", "streams.", &c->hub.stall_timeout, 0.1, 3600));
    BL_RETURN_IF_ERROR(Read(*it, "max_pending", "streams.", &c->hub.max_pending, 16, 1e6));
  }
  if (auto it = j.find("routing"); it != j.end()) {
    BL_RETURN_IF_ERROR(ReadSeconds(*it, "offer_timeout_seconds", "routing.",
                                   &c->routing.offer_timeout, 0.1, 3600));
    BL_RETURN_IF_ERROR(
        Read(*it, "max_missed_offers", "routing.", &c->routing.max_missed_offers, 1, 100));
    std::string policy_file;
    BL_RETURN_IF_ERROR(Read(*it, "policy_file", "routing.", &policy_file));
    if (!policy_file.empty()) {
      auto policy = router::LoadRoutingPolicy(policy_file);
      if (!policy.ok()) return policy.status();
      c->routing.policy = std::move(*policy);
    }
  }
  if (auto it = j.find("bots"); it != j.end()) {
    BL_RETURN_IF_ERROR(Read(*it, "post_rate_per_second", "bots.",
                            &c->messaging.bot_posts.per_second, 0.01, 1e6));
    BL_RETURN_IF_ERROR(Read(*it, "post_burst", "bots.", &c->messaging.bot_posts.burst, 1, 1e6));
  }
  if (auto it = j.find("presence"); it != j.end()) {
    BL_RETURN_IF_ERROR(ReadSeconds(*it, "liveness_timeout_seconds", "presence.",
                                   &c->presence.liveness_timeout, 0.1, 3600));
    BL_RETURN_IF_ERROR(
        ReadSeconds(*it, "grace_seconds", "presence.", &c->presence.grace, 0, 24 * 3600));
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig c;
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    BL_RETURN_IF_ERROR(LoadConfigFile(path, &c));
  }
  if (const std::string v = absl::GetFlag(FLAGS_listen); !v.empty()) c.listen = v;
  if (const std::string v = absl::GetFlag(FLAGS_redis); !v.empty()) {
    BL_ASSIGN_OR_RETURN(c.redis, WithRedisAddress(c.redis, v));
  }
  if (const std::string v = absl::GetFlag(FLAGS_key_prefix); !v.empty()) c.key_prefix = v;
  if (const std::string v = absl::GetFlag(FLAGS_token_secret_file); !v.empty()) {
    auto secret = LoadTokenSecret(v);
    if (!secret.ok()) return secret.status();
    c.token_secret = *secret;
  } else if (const char* env = std::getenv("BACKLINE_TOKEN_SECRET");
             env != nullptr && c.token_secret.empty()) {
    c.token_secret = env;
  }
  if (c.token_secret.size() < 32) {
    return absl::FailedPreconditionError(
        "no token secret of at least 32 bytes: pass --token_secret_file, set "
        "token_secret_file in the config, or set BACKLINE_TOKEN_SECRET");
  }
  return c;
}

}  // namespace backline
