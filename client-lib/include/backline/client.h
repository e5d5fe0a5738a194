// backline::Client — the C++ client of Backline for agent desktops, trays, bots and the CLI.
//
// One Client talks to all services through one target (the all-in-one server, or a front that
// routes by service name). Every call carries the bearer token, has a deadline, and returns
// absl::Status codes exactly as the server sent them (INVALID_ARGUMENT, NOT_FOUND,
// PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED, UNAVAILABLE, DEADLINE_EXCEEDED...).
// A Client is thread-safe: calls may be made from any thread at once.
//
//   backline::ClientOptions options;
//   options.target = "127.0.0.1:7400";
//   options.token = token;
//   backline::Client client(options);
//   client.SetStatus(backline::v1::PRESENCE_STATUS_AVAILABLE);
//   auto events = client.Subscribe("");            // pull API
//   while (auto ev = events->Next(absl::Seconds(1))) { ... }
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/escalations.pb.h"
#include "backline/v1/messaging.pb.h"
#include "backline/v1/presence.pb.h"
#include "backline/v1/roster.pb.h"

namespace backline {

namespace v1 = ::backline::v1;

struct ClientOptions {
  // Server address, e.g. `127.0.0.1:7400` or `dns:///backline.example:443`.
  std::string target;
  // Bearer token sent with every call.
  std::string token;
  // When set, called before every call for the current token (for refreshing tokens); takes
  // precedence over `token`. Called on the calling thread; must not block for long.
  std::function<std::string()> token_provider;
  // Use TLS; `tls_root_certs` (PEM) overrides the system roots when not empty.
  bool use_tls = false;
  std::string tls_root_certs;
  // Deadline of each unary call.
  absl::Duration deadline = absl::Seconds(5);
};

// One open server stream (pull API): the event stream, or a presence watch. Messages arrive in
// order.
template <typename Message>
class ServerStream {
 public:
  virtual ~ServerStream() = default;
  // Waits up to `timeout` for the next message. Returns nullopt on timeout, an error status once
  // the stream has ended (UNAVAILABLE when the server went away: open it again — for the event
  // stream, with the cursor of the last event received).
  virtual absl::StatusOr<std::optional<Message>> Next(absl::Duration timeout) = 0;
  // Ends the stream; Next then returns CANCELLED.
  virtual void Cancel() = 0;
};

// The caller's events; each carries its cursor.
using EventStream = ServerStream<v1::Event>;
// Presence of watched people: a snapshot, then changes.
using PresenceWatch = ServerStream<v1::PresenceUpdate>;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects now instead of on the first call; false if not connected within `timeout`.
  bool WaitForConnected(absl::Duration timeout);

  // --- roster ---
  absl::StatusOr<v1::ApplyRosterResponse> ApplyRoster(const v1::ApplyRosterRequest& request);
  absl::StatusOr<v1::Person> GetPerson(const std::string& id);
  absl::StatusOr<v1::ListPeopleResponse> ListPeople(const v1::ListPeopleRequest& request);

  // --- presence ---
  // Sets the caller's status (or `person`'s, for team leaders and supervisors).
  absl::StatusOr<v1::Presence> SetStatus(v1::PresenceStatus status, const std::string& reason = "",
                                         const std::string& person = "");
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const std::string& session_id);
  absl::StatusOr<v1::Presence> GetPresence(const std::string& person = "");
  absl::StatusOr<v1::ListAvailableResponse> ListAvailable(const v1::ListAvailableRequest& request);
  // Watches the presence of a site, a team or people (see WatchPresenceRequest).
  std::unique_ptr<PresenceWatch> WatchPresence(const v1::WatchPresenceRequest& request);

  // --- escalations ---
  // Escalates a question. A request without `request_id` gets a random one, so that a retry of
  // this call cannot create a second escalation.
  absl::StatusOr<v1::Escalation> Escalate(v1::CreateEscalationRequest request);
  absl::StatusOr<v1::Escalation> GetEscalation(const std::string& id);
  absl::StatusOr<v1::Escalation> AcceptOffer(const std::string& escalation_id,
                                             const std::string& offer_id = "");
  absl::StatusOr<v1::Escalation> DeclineOffer(const std::string& escalation_id,
                                              const std::string& offer_id = "",
                                              const std::string& reason = "");
  absl::StatusOr<v1::Escalation> CancelEscalation(const std::string& id,
                                                  const std::string& reason = "");
  absl::StatusOr<v1::Escalation> ResolveEscalation(const std::string& id,
                                                   const std::string& resolution = "");
  absl::StatusOr<v1::Escalation> ReopenEscalation(const std::string& id,
                                                  const std::string& reason = "");
  absl::StatusOr<v1::Escalation> TransferEscalation(const std::string& id,
                                                    const v1::TransferEscalationRequest& request);
  absl::StatusOr<v1::Escalation> InviteExpert(const std::string& id, const std::string& expert);
  // The "looking for help" list, and taking one of it.
  absl::StatusOr<v1::ListWaitingResponse> ListWaiting(const v1::ListWaitingRequest& request);
  absl::StatusOr<v1::Escalation> TakeEscalation(const std::string& id);
  absl::StatusOr<v1::RoutingExplanation> ExplainRouting(const std::string& id);
  absl::StatusOr<v1::Stats> GetStats(const v1::GetStatsRequest& request);

  // --- messaging ---
  // Posts `text`. Without a `client_msg_id` a random one is used, so a retry is idempotent.
  absl::StatusOr<v1::Message> Post(const std::string& thread_id, const std::string& text,
                                   std::string client_msg_id = "");
  absl::StatusOr<v1::Message> PostMessage(v1::PostMessageRequest request);
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(const v1::ListMessagesRequest& request);
  absl::StatusOr<v1::Thread> GetThread(const std::string& id);
  absl::StatusOr<v1::ListThreadsResponse> ListThreads(const v1::ListThreadsRequest& request);
  // Opens (or finds) the direct thread with `person`.
  absl::StatusOr<v1::Thread> OpenDirectThread(const std::string& person);
  // Opens (or finds) the thread of `team`.
  absl::StatusOr<v1::Thread> OpenTeamThread(const std::string& team);
  // Joins an escalation thread of the caller's site (supervisors).
  absl::StatusOr<v1::Thread> JoinThread(const std::string& thread_id);
  absl::StatusOr<v1::Message> EditMessage(const std::string& thread_id, int64_t seq,
                                          const std::string& text);
  absl::StatusOr<v1::Message> DeleteMessage(const std::string& thread_id, int64_t seq);
  // Moves the caller's read marker forward to `seq`.
  absl::StatusOr<v1::Thread> MarkRead(const std::string& thread_id, int64_t seq);
  // Tells the others the caller is typing (rate-limited by the server; never stored).
  absl::Status SetTyping(const std::string& thread_id);

  // Opens the caller's event stream after `after_cursor` (empty: from now on; "0": everything
  // retained). The stream has no deadline; it ends when cancelled or when the server goes.
  std::unique_ptr<EventStream> Subscribe(const std::string& after_cursor,
                                         const std::string& session_id = "");

  // A random id suitable for `client_msg_id`, `request_id` or a session id.
  static std::string NewRequestId();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backline
