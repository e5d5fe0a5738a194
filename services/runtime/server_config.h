// Configuration of a Backline server process: a JSON file (see deploy/backline.json) overridden
// by flags. The same struct configures the all-in-one server, the single-service binaries and
// the in-process stacks of the tests.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/chat/event_hub.h"
#include "services/chat/messaging_service.h"
#include "services/presence/redis_presence_store.h"
#include "services/router/escalation_rules.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline {

struct ServerConfig {
  // host:port to listen on; port 0 picks a free port.
  std::string listen = "127.0.0.1:7400";
  store::RedisOptions redis;
  // Prefix of every Redis key (a hash tag such as `{site-a}` keeps a deployment in one slot).
  std::string key_prefix = "bl";
  // The HS256 secret tokens are signed with (at least 32 bytes).
  std::string token_secret;
  absl::Duration shutdown_grace = absl::Seconds(5);
  store::EventLogConfig events;
  chat::EventHubConfig hub;
  chat::MessagingConfig messaging;
  router::RoutingConfig routing;
  presence::PresenceConfig presence;
};

// Reads the JSON configuration file at `path` into `config` (fields not in the file keep their
// values). INVALID_ARGUMENT naming the field for a bad value, NOT_FOUND for a missing file.
absl::Status LoadConfigFile(const std::string& path, ServerConfig* config);

// The configuration of this process: defaults, then the file named by --config, then the flags
// --listen, --redis, --key_prefix and --token_secret_file (or $BACKLINE_TOKEN_SECRET).
absl::StatusOr<ServerConfig> ConfigFromFlags();

}  // namespace backline
