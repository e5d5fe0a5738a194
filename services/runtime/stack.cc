#include "services/runtime/stack.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <csignal>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/chat/event_hub.h"
#include "services/chat/messaging_service.h"
#include "services/chat/redis_thread_store.h"
#include "services/common/log.h"
#include "services/presence/liveness_worker.h"
#include "services/presence/presence_service.h"
#include "services/presence/presence_watch.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"
#include "services/presence/roster_service.h"
#include "services/router/escalation_service.h"
#include "services/router/redis_escalation_store.h"
#include "services/router/router.h"
#include "services/router/routing_worker.h"
#include "services/store/due_queue.h"
#include "services/store/event_log.h"

namespace backline {
namespace {

const char* const kRosterName = "backline.v1.RosterService";
const char* const kPresenceName = "backline.v1.PresenceService";
const char* const kEscalationName = "backline.v1.EscalationService";
const char* const kMessagingName = "backline.v1.MessagingService";

}  // namespace

Stack::Stack(ServerConfig config, unsigned components, const Clock* clock)
    : config_(std::move(config)), components_(components), clock_(clock) {}

Stack::~Stack() { Shutdown(); }

absl::StatusOr<int> Stack::Start() {
  if (config_.token_secret.size() < 32) {
    return absl::FailedPreconditionError("token secret must be at least 32 bytes");
  }
  redis_ = std::make_unique<store::RedisClient>(config_.redis);
  keys_ = std::make_unique<store::Keys>(config_.key_prefix);
  events_ = std::make_unique<store::EventLog>(redis_.get(), keys_.get(), config_.events);
  tokens_ = std::make_unique<TokenCodec>(config_.token_secret);
  auth_ = std::make_unique<Authenticator>(tokens_.get());
  roster_ = std::make_unique<presence::RedisRosterStore>(redis_.get(), keys_.get(), config_.events,
                                                         clock_);
  presence_ = std::make_unique<presence::RedisPresenceStore>(
      redis_.get(), keys_.get(), config_.events, clock_, config_.presence);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(32 << 20);
  // Detect dead peers on idle event streams, and let clients do the same.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);

  if (components_ & kPresence) {
    roster_service_ = std::make_unique<presence::RosterService>(auth_.get(), roster_.get());
    watch_hub_ =
        std::make_unique<presence::PresenceWatchHub>(config_.redis, *keys_, presence_.get());
    presence_service_ = std::make_unique<presence::PresenceService>(
        auth_.get(), roster_.get(), presence_.get(), watch_hub_.get());
    builder.RegisterService(roster_service_.get());
    builder.RegisterService(presence_service_.get());
  }
  if (components_ & kRouter) {
    escalations_ = std::make_unique<router::RedisEscalationStore>(redis_.get(), keys_.get(),
                                                                  config_.events, clock_);
    offer_deadlines_ =
        std::make_unique<store::DueQueue>(redis_.get(), keys_.get(), keys_->Timers(), clock_);
    router_ = std::make_unique<router::Router>(escalations_.get(), presence_.get(), roster_.get(),
                                               events_.get(), offer_deadlines_.get(), clock_,
                                               config_.routing);
    escalation_service_ = std::make_unique<router::EscalationService>(auth_.get(), router_.get());
    builder.RegisterService(escalation_service_.get());
  }
  if (components_ & kChat) {
    threads_ =
        std::make_unique<chat::RedisThreadStore>(redis_.get(), keys_.get(), config_.events, clock_);
    hub_ = std::make_unique<chat::EventHub>(config_.redis, events_.get(), *keys_,
                                            presence_.get(), roster_.get(), config_.hub);
    messaging_service_ = std::make_unique<chat::MessagingService>(
        auth_.get(), threads_.get(), roster_.get(), hub_.get(), config_.messaging);
    builder.RegisterService(messaging_service_.get());
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen));
  }
  if (router_) {
    routing_worker_ = std::make_unique<router::RoutingWorker>(router_.get(), config_.redis, *keys_);
  }
  if (components_ & kPresence) {
    liveness_checks_ =
        std::make_unique<store::DueQueue>(redis_.get(), keys_.get(), keys_->Liveness(), clock_);
    liveness_worker_ =
        std::make_unique<presence::LivenessWorker>(presence_.get(), liveness_checks_.get());
  }
  health_thread_ = std::thread([this] { WatchRedis(); });
  return port_;
}

void Stack::WatchRedis() {
  // Health follows Redis: a process that cannot reach Redis answers UNAVAILABLE to every call,
  // so it reports NOT_SERVING and a front end can steer clients elsewhere.
  bool last = false;
  bool first = true;
  while (true) {
    const bool up = redis_->Command({"PING"}).ok();
    if (up != last || first) {
      auto* health = server_->GetHealthCheckService();
      for (const char* name : {"", kRosterName, kPresenceName, kEscalationName, kMessagingName}) {
        health->SetServingStatus(name, up);
      }
      if (!up) {
        BL_LOG(WARNING) << "redis unreachable: calls fail with UNAVAILABLE until it is back";
      } else if (!first) {
        BL_LOG(INFO) << "redis reachable again";
      }
      last = up;
      first = false;
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
    if (stopping_) return;
  }
}

void Stack::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (health_thread_.joinable()) health_thread_.join();
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->Shutdown();
    if (hub_) hub_->CloseAll();
    if (watch_hub_) watch_hub_->CloseAll();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + config_.shutdown_grace));
    server_->Wait();
  }
  routing_worker_.reset();
  liveness_worker_.reset();
  watch_hub_.reset();
  hub_.reset();
}

int RunServerMain(int argc, char** argv, unsigned components, const char* name) {
  absl::SetProgramUsageMessage(
      absl::StrCat(name,
                   ": Backline server. Flags: --config, --listen, --redis, --key_prefix, "
                   "--token_secret_file."));
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with mutex deadlock detection on, which records every lock in a
  // global graph: with 10,000 open streams that bookkeeping was most of an idle server's CPU.
  // The tests (which keep it on) are where lock-order mistakes are caught.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto config = ConfigFromFlags();
  if (!config.ok()) {
    BL_LOG(ERROR) << name << ": " << config.status().message();
    return 2;
  }
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Stack stack(*config, components);
  auto port = stack.Start();
  if (!port.ok()) {
    BL_LOG(ERROR) << name << ": " << port.status().message();
    return 1;
  }
  BL_LOG(INFO) << name << " listening on port " << *port << ", redis " << config->redis.host << ":"
               << config->redis.port;
  int sig = 0;
  sigwait(&signals, &sig);
  BL_LOG(INFO) << name << ": signal " << sig << ", shutting down";
  stack.Shutdown();
  BL_LOG(INFO) << name << ": stopped";
  return 0;
}

}  // namespace backline
