#include "backline/client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client_impl.h"

namespace backline {
namespace internal {

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

Backoff::Backoff(absl::Duration initial, absl::Duration max)
    : initial_(std::max(initial, absl::Milliseconds(1))), max_(std::max(max, initial_)) {}

std::mt19937_64& ThreadRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

absl::Duration Backoff::Next() {
  absl::Duration base = initial_;
  for (int i = 0; i < failures_ && base < max_; ++i) base *= 2;
  if (failures_ < 64) ++failures_;
  base = std::min(base, max_);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::clamp(base * jitter(ThreadRandom()), initial_, max_);
}

ClientImpl::ClientImpl(ClientOptions o) : options(std::move(o)) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.use_tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs;
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto ms = [](absl::Duration d) {
    return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
  };
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options.keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // The client sends nothing on an event stream after the request; without this gRPC stops
  // pinging after two pings, and a long-idle feed would never notice a dead server.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The channel's own reconnect attempts follow the same bounds as the feed's, so that a server
  // that is back is found within `max_backoff` (gRPC's default would wait up to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, ms(options.initial_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              ms(std::max(options.max_backoff, options.initial_backoff)));
  args.SetMaxReceiveMessageSize(32 << 20);
  args.SetMaxSendMessageSize(32 << 20);
  channel = grpc::CreateCustomChannel(options.target, creds, args);
  roster = v1::RosterService::NewStub(channel);
  presence = v1::PresenceService::NewStub(channel);
  escalations = v1::EscalationService::NewStub(channel);
  messaging = v1::MessagingService::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> ClientImpl::Context(absl::Time deadline) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  const std::string token = options.token_provider ? options.token_provider() : options.token;
  if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  if (deadline != absl::InfiniteFuture()) ctx->set_deadline(absl::ToChronoTime(deadline));
  return ctx;
}

bool ClientImpl::ServerAnswered(absl::Time deadline) const {
  if (channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY) return false;
  const absl::Time until = std::min(deadline, absl::Now() + absl::Milliseconds(100));
  return !channel->WaitForStateChange(GRPC_CHANNEL_READY, absl::ToChronoTime(until));
}

}  // namespace internal

namespace {

using internal::FromGrpc;

// Reads a server stream on its own thread into a queue that Next() drains.
template <typename Message>
class GrpcServerStream : public ServerStream<Message> {
 public:
  using Opener = std::function<std::unique_ptr<grpc::ClientReader<Message>>(grpc::ClientContext*)>;

  GrpcServerStream(std::shared_ptr<internal::ClientImpl> client,
                   std::unique_ptr<grpc::ClientContext> context, const Opener& open)
      : client_(std::move(client)), context_(std::move(context)) {
    reader_ = open(context_.get());
    thread_ = std::thread([this] { Read(); });
  }
  ~GrpcServerStream() override {
    Cancel();
    thread_.join();
  }

  absl::StatusOr<std::optional<Message>> Next(absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    auto ready = [this]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !messages_.empty() || done_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (!messages_.empty()) {
      Message m = std::move(messages_.front());
      messages_.pop_front();
      return std::optional<Message>(std::move(m));
    }
    if (done_) return final_;
    return std::optional<Message>();
  }

  void Cancel() override { context_->TryCancel(); }

 private:
  void Read() {
    Message m;
    while (reader_->Read(&m)) {
      absl::MutexLock lock(&mu_);
      messages_.push_back(std::move(m));
      m.Clear();
    }
    grpc::Status status = reader_->Finish();
    absl::MutexLock lock(&mu_);
    final_ = status.ok() ? absl::UnavailableError("stream ended") : FromGrpc(status);
    done_ = true;
  }

  // Keeps the channel alive for as long as the stream.
  std::shared_ptr<internal::ClientImpl> client_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<Message>> reader_;
  absl::Mutex mu_;
  std::deque<Message> messages_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace

absl::string_view FeedStateName(FeedState state) {
  switch (state) {
    case FeedState::kConnecting:
      return "CONNECTING";
    case FeedState::kConnected:
      return "CONNECTED";
    case FeedState::kReconnecting:
      return "RECONNECTING";
    case FeedState::kStopped:
      return "STOPPED";
  }
  return "UNKNOWN";
}

Client::Client(ClientOptions options)
    : impl_(std::make_shared<internal::ClientImpl>(std::move(options))) {}
Client::~Client() = default;

bool Client::WaitForConnected(absl::Duration timeout) {
  return impl_->channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

std::string Client::NewRequestId() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::mt19937_64& rng = internal::ThreadRandom();
  std::string id;
  for (int i = 0; i < 20; ++i) id.push_back(kAlphabet[rng() % 36]);
  return id;
}

absl::StatusOr<v1::ApplyRosterResponse> Client::ApplyRoster(const v1::ApplyRosterRequest& request) {
  return impl_->Call(impl_->roster.get(), &v1::RosterService::Stub::ApplyRoster, request);
}

absl::StatusOr<v1::Person> Client::GetPerson(const std::string& id) {
  v1::GetPersonRequest r;
  r.set_id(id);
  return impl_->Call(impl_->roster.get(), &v1::RosterService::Stub::GetPerson, r);
}

absl::StatusOr<v1::ListPeopleResponse> Client::ListPeople(const v1::ListPeopleRequest& request) {
  return impl_->Call(impl_->roster.get(), &v1::RosterService::Stub::ListPeople, request);
}

absl::StatusOr<v1::Presence> Client::SetStatus(v1::PresenceStatus status, const std::string& reason,
                                               const std::string& person) {
  v1::SetStatusRequest r;
  r.set_status(status);
  r.set_reason(reason);
  r.set_person(person);
  return impl_->Call(impl_->presence.get(), &v1::PresenceService::Stub::SetStatus, r);
}

absl::StatusOr<v1::HeartbeatResponse> Client::Heartbeat(const std::string& session_id) {
  v1::HeartbeatRequest r;
  r.set_session_id(session_id);
  return impl_->Call(impl_->presence.get(), &v1::PresenceService::Stub::Heartbeat, r);
}

absl::StatusOr<v1::Presence> Client::GetPresence(const std::string& person) {
  v1::GetPresenceRequest r;
  r.set_person(person);
  return impl_->Call(impl_->presence.get(), &v1::PresenceService::Stub::GetPresence, r);
}

absl::StatusOr<v1::ListAvailableResponse> Client::ListAvailable(
    const v1::ListAvailableRequest& request) {
  return impl_->Call(impl_->presence.get(), &v1::PresenceService::Stub::ListAvailable, request);
}

absl::StatusOr<v1::Escalation> Client::Escalate(v1::CreateEscalationRequest request) {
  if (request.request_id().empty()) request.set_request_id(NewRequestId());
  return impl_->CallIdempotent(impl_->escalations.get(),
                               &v1::EscalationService::Stub::CreateEscalation, request);
}

absl::StatusOr<v1::Escalation> Client::GetEscalation(const std::string& id) {
  v1::GetEscalationRequest r;
  r.set_id(id);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::GetEscalation, r);
}

absl::StatusOr<v1::Escalation> Client::AcceptOffer(const std::string& escalation_id,
                                                   const std::string& offer_id) {
  v1::AcceptOfferRequest r;
  r.set_escalation_id(escalation_id);
  r.set_offer_id(offer_id);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::AcceptOffer, r);
}

absl::StatusOr<v1::Escalation> Client::DeclineOffer(const std::string& escalation_id,
                                                    const std::string& offer_id,
                                                    const std::string& reason) {
  v1::DeclineOfferRequest r;
  r.set_escalation_id(escalation_id);
  r.set_offer_id(offer_id);
  r.set_reason(reason);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::DeclineOffer, r);
}

absl::StatusOr<v1::Escalation> Client::CancelEscalation(const std::string& id,
                                                        const std::string& reason) {
  v1::CancelEscalationRequest r;
  r.set_id(id);
  r.set_reason(reason);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::CancelEscalation, r);
}

absl::StatusOr<v1::Escalation> Client::ResolveEscalation(const std::string& id,
                                                         const std::string& resolution) {
  v1::ResolveEscalationRequest r;
  r.set_id(id);
  r.set_resolution(resolution);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::ResolveEscalation, r);
}

absl::StatusOr<v1::Escalation> Client::ReopenEscalation(const std::string& id,
                                                        const std::string& reason) {
  v1::ReopenEscalationRequest r;
  r.set_id(id);
  r.set_reason(reason);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::ReopenEscalation, r);
}

absl::StatusOr<v1::Escalation> Client::TransferEscalation(
    const std::string& id, const v1::TransferEscalationRequest& request) {
  v1::TransferEscalationRequest r = request;
  r.set_id(id);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::TransferEscalation, r);
}

absl::StatusOr<v1::Escalation> Client::InviteExpert(const std::string& id,
                                                    const std::string& expert) {
  v1::InviteExpertRequest r;
  r.set_id(id);
  r.set_expert(expert);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::InviteExpert, r);
}

absl::StatusOr<v1::ListWaitingResponse> Client::ListWaiting(const v1::ListWaitingRequest& request) {
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::ListWaiting, request);
}

absl::StatusOr<v1::Escalation> Client::TakeEscalation(const std::string& id) {
  v1::TakeEscalationRequest r;
  r.set_id(id);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::TakeEscalation, r);
}

absl::StatusOr<v1::RoutingExplanation> Client::ExplainRouting(const std::string& id) {
  v1::ExplainRoutingRequest r;
  r.set_id(id);
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::ExplainRouting, r);
}

absl::StatusOr<v1::Stats> Client::GetStats(const v1::GetStatsRequest& request) {
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::GetStats, request);
}

absl::StatusOr<v1::BotSubscription> Client::SubscribeEscalations(
    const v1::SubscribeEscalationsRequest& request) {
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::SubscribeEscalations,
                     request);
}

absl::StatusOr<v1::KnowledgeHitRating> Client::RateKnowledgeHit(const std::string& thread_id,
                                                                int64_t seq, bool helpful) {
  v1::RateKnowledgeHitRequest r;
  r.set_thread_id(thread_id);
  r.set_seq(seq);
  r.set_helpful(helpful);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::RateKnowledgeHit, r);
}

absl::StatusOr<v1::ListEscalationsResponse> Client::ListEscalations(
    const v1::ListEscalationsRequest& request) {
  return impl_->Call(impl_->escalations.get(), &v1::EscalationService::Stub::ListEscalations,
                     request);
}

absl::StatusOr<v1::Message> Client::Post(const std::string& thread_id, const std::string& text,
                                         std::string client_msg_id) {
  v1::PostMessageRequest r;
  r.set_thread_id(thread_id);
  r.set_text(text);
  r.set_client_msg_id(std::move(client_msg_id));
  return PostMessage(std::move(r));
}

absl::StatusOr<v1::Message> Client::PostMessage(v1::PostMessageRequest request) {
  if (request.client_msg_id().empty()) request.set_client_msg_id(NewRequestId());
  return impl_->CallIdempotent(impl_->messaging.get(), &v1::MessagingService::Stub::PostMessage,
                               request);
}

absl::StatusOr<v1::ListMessagesResponse> Client::ListMessages(
    const v1::ListMessagesRequest& request) {
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::ListMessages, request);
}

absl::StatusOr<v1::Thread> Client::GetThread(const std::string& id) {
  v1::GetThreadRequest r;
  r.set_id(id);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::GetThread, r);
}

absl::StatusOr<v1::ListThreadsResponse> Client::ListThreads(const v1::ListThreadsRequest& request) {
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::ListThreads, request);
}

absl::StatusOr<v1::Thread> Client::OpenDirectThread(const std::string& person) {
  v1::OpenThreadRequest r;
  r.set_person(person);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::OpenThread, r);
}

absl::StatusOr<v1::Thread> Client::OpenTeamThread(const std::string& team) {
  v1::OpenThreadRequest r;
  r.set_team(team);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::OpenThread, r);
}

absl::StatusOr<v1::Thread> Client::JoinThread(const std::string& thread_id) {
  v1::JoinThreadRequest r;
  r.set_thread_id(thread_id);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::JoinThread, r);
}

absl::StatusOr<v1::Message> Client::EditMessage(const std::string& thread_id, int64_t seq,
                                                const std::string& text) {
  v1::EditMessageRequest r;
  r.set_thread_id(thread_id);
  r.set_seq(seq);
  r.set_text(text);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::EditMessage, r);
}

absl::StatusOr<v1::Message> Client::DeleteMessage(const std::string& thread_id, int64_t seq) {
  v1::DeleteMessageRequest r;
  r.set_thread_id(thread_id);
  r.set_seq(seq);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::DeleteMessage, r);
}

absl::StatusOr<v1::Thread> Client::MarkRead(const std::string& thread_id, int64_t seq) {
  v1::MarkReadRequest r;
  r.set_thread_id(thread_id);
  r.set_seq(seq);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::MarkRead, r);
}

absl::Status Client::SetTyping(const std::string& thread_id) {
  v1::SetTypingRequest r;
  r.set_thread_id(thread_id);
  return impl_->Call(impl_->messaging.get(), &v1::MessagingService::Stub::SetTyping, r).status();
}

std::unique_ptr<EventStream> Client::Subscribe(const std::string& after_cursor,
                                               const std::string& session_id) {
  v1::SubscribeRequest r;
  r.set_after_cursor(after_cursor);
  r.set_session_id(session_id);
  return std::make_unique<GrpcServerStream<v1::Event>>(
      impl_, impl_->Context(absl::InfiniteFuture()),
      [&](grpc::ClientContext* ctx) { return impl_->messaging->Subscribe(ctx, r); });
}

std::unique_ptr<PresenceWatch> Client::WatchPresence(const v1::WatchPresenceRequest& request) {
  return std::make_unique<GrpcServerStream<v1::PresenceUpdate>>(
      impl_, impl_->Context(absl::InfiniteFuture()),
      [&](grpc::ClientContext* ctx) { return impl_->presence->WatchPresence(ctx, request); });
}

}  // namespace backline
