// Wires the services of one Backline process: the Redis client, the stores, the routing engine
// and its background worker, the event hub, the gRPC services, health checking and reflection.
// `components` picks which services this process hosts; the all-in-one server hosts all three
// on one port, the single-service binaries one each, with the same code.
//
//   Stack stack(config, Stack::kAll);
//   absl::StatusOr<int> port = stack.Start();
//   ...
//   stack.Shutdown();
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/runtime/server_config.h"

namespace backline {

namespace presence {
class RedisRosterStore;
class RedisPresenceStore;
class RosterService;
class PresenceService;
class LivenessWorker;
class PresenceWatchHub;
}  // namespace presence
namespace router {
class RedisEscalationStore;
class Router;
class RoutingWorker;
class EscalationService;
}  // namespace router
namespace chat {
class RedisThreadStore;
class MessagingService;
}  // namespace chat
namespace store {
class EventLog;
class DueQueue;
}  // namespace store

class Stack {
 public:
  enum Components : unsigned { kPresence = 1, kRouter = 2, kChat = 4, kAll = 7 };

  Stack(ServerConfig config, unsigned components, const Clock* clock = &SystemClock::Instance());
  ~Stack();

  // Builds and starts the server; returns the port it listens on.
  absl::StatusOr<int> Start();
  // Ends event streams, stops taking calls, waits up to the grace period for calls in flight,
  // then stops the background work. Idempotent.
  void Shutdown();

  const ServerConfig& config() const { return config_; }
  int port() const { return port_; }
  chat::EventHub* hub() { return hub_.get(); }

 private:
  void WatchRedis();

  const ServerConfig config_;
  const unsigned components_;
  const Clock* clock_;
  int port_ = 0;

  std::unique_ptr<store::RedisClient> redis_;
  std::unique_ptr<store::Keys> keys_;
  std::unique_ptr<store::EventLog> events_;
  std::unique_ptr<TokenCodec> tokens_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<presence::RedisRosterStore> roster_;
  std::unique_ptr<presence::RedisPresenceStore> presence_;
  std::unique_ptr<store::DueQueue> liveness_checks_;
  std::unique_ptr<presence::LivenessWorker> liveness_worker_;
  std::unique_ptr<presence::PresenceWatchHub> watch_hub_;
  std::unique_ptr<store::DueQueue> offer_deadlines_;
  std::unique_ptr<router::RedisEscalationStore> escalations_;
  std::unique_ptr<router::Router> router_;
  std::unique_ptr<router::RoutingWorker> routing_worker_;
  std::unique_ptr<chat::RedisThreadStore> threads_;
  std::unique_ptr<chat::EventHub> hub_;
  std::unique_ptr<presence::RosterService> roster_service_;
  std::unique_ptr<presence::PresenceService> presence_service_;
  std::unique_ptr<router::EscalationService> escalation_service_;
  std::unique_ptr<chat::MessagingService> messaging_service_;
  std::unique_ptr<grpc::Server> server_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread health_thread_;
};

// The body of every server binary's main(): parses flags, loads the configuration, starts a
// Stack with `components`, and shuts it down cleanly on SIGTERM or SIGINT.
int RunServerMain(int argc, char** argv, unsigned components, const char* name);

}  // namespace backline
