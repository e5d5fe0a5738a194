// backline::Client — the C++ client of Backline for agent desktops, trays, bots and the CLI.
//
// One Client talks to all services through one target (the all-in-one server, or a front that
// routes by service name). Every call carries the bearer token, has a deadline, and returns
// absl::Status codes exactly as the server sent them (INVALID_ARGUMENT, NOT_FOUND,
// PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED, UNAVAILABLE, DEADLINE_EXCEEDED...).
// A Client is thread-safe: calls may be made from any thread at once. Unary calls block the
// calling thread for at most `ClientOptions::deadline`.
//
// A desktop keeps one EventFeed open (Client::OpenFeed): it owns the person's event stream,
// reconnects by itself, and delivers every event exactly once, in order.
//
//   backline::ClientOptions options;
//   options.target = "127.0.0.1:7400";
//   options.token = token;
//   backline::Client client(options);
//   client.SetStatus(backline::v1::PRESENCE_STATUS_AVAILABLE);
//   backline::FeedOptions feed_options;
//   feed_options.after_cursor = saved_cursor;                       // "" = from now on
//   auto feed = client.OpenFeed(feed_options);                      // pull mode
//   while (auto item = feed->Next(absl::Seconds(1)); item.ok()) {
//     if (!item->has_value()) continue;                             // nothing within 1 s
//     if ((*item)->is_state()) { ShowConnection((*item)->state); continue; }
//     Handle((*item)->event);                                       // once, in order
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/escalations.pb.h"
#include "backline/v1/messaging.pb.h"
#include "backline/v1/presence.pb.h"
#include "backline/v1/roster.pb.h"

namespace backline {

namespace v1 = ::backline::v1;

namespace internal {
struct ClientImpl;
}  // namespace internal

struct ClientOptions {
  // Server address, e.g. `127.0.0.1:7400` or `dns:///backline.example:443`.
  std::string target;
  // Bearer token sent with every call.
  std::string token;
  // When set, called before every call for the current token (for refreshing tokens); takes
  // precedence over `token`. Called on the thread making the call (for an EventFeed: on the
  // feed's stream thread, before each reconnect); must be thread-safe and must not block for
  // long.
  std::function<std::string()> token_provider;
  // Use TLS; `tls_root_certs` (PEM) overrides the system roots when not empty.
  bool use_tls = false;
  std::string tls_root_certs;
  // Deadline of each unary call, retries included.
  absl::Duration deadline = absl::Seconds(5);

  // Keepalive: after `keepalive_time` without anything received the connection is pinged, and
  // a ping unanswered for `keepalive_timeout` declares it dead, which ends every call on it with
  // UNAVAILABLE. This is how a feed notices a server or network that vanished without closing
  // the connection (a frozen process, a pulled cable). Backline servers take pings down to one
  // every 5 s; a proxy in between may want them rarer.
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);

  // Bounds of the jittered exponential backoff used between reconnects of an EventFeed, between
  // retries of idempotent calls, and by the channel between attempts to reach the server.
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(10);
  // Retry Post, PostMessage and Escalate (calls that carry an idempotency key) while the server
  // cannot be reached, within `deadline`. See Client::PostMessage.
  bool retry_idempotent_calls = true;
};

// One open server stream (pull API): the event stream, or a presence watch. Messages arrive in
// order.
template <typename Message>
class ServerStream {
 public:
  virtual ~ServerStream() = default;
  // Waits up to `timeout` for the next message. Returns nullopt on timeout, an error status once
  // the stream has ended (UNAVAILABLE when the server went away: open it again — for the event
  // stream, with the cursor of the last event received). Any thread; blocks the caller for at
  // most `timeout`.
  virtual absl::StatusOr<std::optional<Message>> Next(absl::Duration timeout) = 0;
  // Ends the stream; Next then returns CANCELLED. Any thread; does not block.
  virtual void Cancel() = 0;
};

// The caller's events; each carries its cursor.
using EventStream = ServerStream<v1::Event>;
// Presence of watched people: a snapshot, then changes.
using PresenceWatch = ServerStream<v1::PresenceUpdate>;

// --- EventFeed: the event stream a desktop keeps open ---

// The connection state of an EventFeed. Changes are delivered in order with the events.
enum class FeedState {
  // Opening the stream for the first time.
  kConnecting,
  // The stream is open and everything missed has been delivered: what follows is live.
  kConnected,
  // The stream ended or could not be opened; the next attempt is scheduled.
  kReconnecting,
  // The feed ended: Stop() was called, or the server refused it for good. Always the last.
  kStopped,
};

// "CONNECTING", "CONNECTED", "RECONNECTING", "STOPPED".
absl::string_view FeedStateName(FeedState state);

// A change of a feed's connection state.
struct FeedStateChange {
  FeedState state = FeedState::kConnecting;
  // kReconnecting: why the stream ended or the attempt failed (UNAVAILABLE for a server that
  // went away or a dead connection, RESOURCE_EXHAUSTED when the server cut a reader that took
  // nothing for too long...). kStopped: OK after Stop(), else the error that ended the feed.
  absl::Status error;
  // kReconnecting: when the next attempt starts.
  absl::Time next_attempt = absl::InfinitePast();
  // kReconnecting: attempts that failed in a row so far (1 for the first).
  int attempt = 0;
  // kConnected: the cursor the feed stands at: that of the newest event stored for the person,
  // all of which come before this change ("0-0" when there is none).
  std::string cursor;
};

// What a feed delivers, in order: an event, or a change of the connection state.
struct FeedItem {
  enum class Kind { kEvent, kState };
  Kind kind = Kind::kEvent;
  // kEvent: an event of the stream: a stored one (with its cursor), a `gap`, or a live-only one
  // without cursor (typing, presence_changed). Never `caught_up`: that is reported as
  // kConnected.
  v1::Event event;
  // kState: the new state.
  FeedStateChange state;

  bool is_event() const { return kind == Kind::kEvent; }
  bool is_state() const { return kind == Kind::kState; }
};

struct FeedOptions {
  // Where to start: the cursor of the last event the application handled (saved from
  // EventFeed::cursor() or an event's `cursor`) to get everything after it; empty for only what
  // happens from the first successful connection on; "0" for everything still retained.
  std::string after_cursor;
  // The desktop session the stream keeps alive for presence; empty for a random one. The same
  // session is used across reconnects.
  std::string session_id;

  // Callback mode: set `on_event` (and, if wanted, `on_state`). Both are called on one thread
  // the feed owns, one call at a time, in the order of the stream (the first, kConnecting, may
  // come before OpenFeed returns); the feed holds no lock while calling them and they wait for
  // nothing but each other. A callback may call any Client method and EventFeed::Stop(), but
  // must not destroy the feed. To hand items to a GUI loop, post them from the callback (Qt:
  // QMetaObject::invokeMethod with Qt::QueuedConnection; GTK: g_idle_add).
  // Pull mode (`on_event` unset; `on_state` is then ignored): the application takes events and
  // state changes with EventFeed::Next().
  std::function<void(const v1::Event&)> on_event;
  std::function<void(const FeedStateChange&)> on_state;

  // Items the feed holds for an application that is behind. When full, the feed stops reading:
  // the server keeps the rest (and cuts a stream that takes nothing for its stall timeout, 30 s
  // by default, after which the feed resumes from its cursor like after any other break).
  size_t max_buffered = 1024;
};

// The person's event stream, kept open: a desktop's one connection to what happens to it.
//
// Reconnects: when the stream ends (the server went away, the connection died — see
// ClientOptions::keepalive_time — or the server cut it) the feed reports kReconnecting with the
// error and the time of the next attempt, waits a jittered exponential backoff between
// ClientOptions::initial_backoff and max_backoff (reset once a stream has caught up), and
// subscribes again after the cursor of the last event it received. Every stored event is
// therefore delivered exactly once and in order across reconnects, server restarts and changes
// of server instance; each reconnect ends with kConnected once the missed events are through.
// It stops for good (kStopped with the error) only when the server refuses the feed itself:
// UNAUTHENTICATED (retried instead when ClientOptions::token_provider may bring a new token),
// PERMISSION_DENIED (not on the roster, or removed from it), INVALID_ARGUMENT (a malformed
// `after_cursor` or `session_id`), UNIMPLEMENTED (the target serves no MessagingService).
//
// Gaps: when events after the cursor are no longer retained (the feed was away longer than
// the server's retention, or `after_cursor` is not from this person's log) the server sends a
// `gap` event, delivered like any other; the events that follow are the oldest still retained.
// The application should then reload what it shows (ListThreads, GetEscalation...) rather
// than rely on the events it missed. A gap is delivered once even if the stream breaks again
// before the next event.
//
// Presence: the open stream is the desktop session `session_id` of the person, which is what
// keeps them alive for routing — no heartbeat is needed. While the feed reconnects the server
// keeps the session for its liveness timeout (10 s by default); past that the person leaves
// routing and is shown OFFLINE, and the first stream that opens again brings them back with
// the status they had chosen, if within the grace period (60 s by default). The feed never
// sets the status: after a longer absence the person stays OFFLINE until they choose one
// (Client::SetStatus), so that a desktop waking from sleep is not offered work before its owner
// is back.
//
// Threads: one stream thread per feed, plus the callback thread in callback mode. All methods
// are thread-safe.
class EventFeed {
 public:
  // Stops the feed (see Stop()). Must not be called from the feed's own callbacks.
  ~EventFeed();
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Pull mode: waits up to `timeout` for the next item and returns it; nullopt when none came
  // in time. After Stop() (or a permanent failure) the kStopped change is returned once, then
  // CANCELLED (after Stop()) or the error that ended the feed. FAILED_PRECONDITION in callback
  // mode. Any thread; blocks the caller for at most `timeout`.
  absl::StatusOr<std::optional<FeedItem>> Next(absl::Duration timeout);

  // Ends the feed: cancels the stream (or the wait before the next attempt), discards items not
  // yet delivered, and joins the feed's threads. In callback mode `on_state` gets kStopped
  // before Stop() returns — or, when Stop() is called from a callback, right after that
  // callback returns; no callback comes after kStopped. Returns without waiting for a backoff
  // or for the network. Idempotent; any thread.
  void Stop();

  // The feed's current state (it may be ahead of the items the application has taken yet).
  FeedState state() const;
  // The cursor of the last stored event delivered to the application (returned by Next, or
  // passed to `on_event` and returned from it): save it to resume after a restart.
  std::string cursor() const;
  // The desktop session the feed keeps alive.
  const std::string& session_id() const;

 private:
  friend class Client;
  struct Core;
  explicit EventFeed(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

// The client of every Backline service.
//
// Threads: every unary call runs on the calling thread and returns within
// ClientOptions::deadline (retries included); any number of threads may call at once. Streams
// and feeds read on threads of their own (see each).
//
// Errors: the server's status code and message, as documented per call below and in
// proto/backline/v1/*.proto. Common to all calls: UNAUTHENTICATED (missing, malformed, expired
// or wrongly signed token), UNAVAILABLE (the server cannot be reached, or its Redis is down:
// try again), DEADLINE_EXCEEDED (no answer within the deadline), INVALID_ARGUMENT naming the
// field of a malformed request, ABORTED (a record kept changing under the call: try again).
class Client {
 public:
  // Sets up the channel; connects on the first call (or WaitForConnected). Never fails: a bad
  // target shows as UNAVAILABLE on the calls.
  explicit Client(ClientOptions options);
  // Feeds and streams opened from this client may outlive it.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects now instead of on the first call; false if not connected within `timeout`.
  // Blocks the caller for at most `timeout`.
  bool WaitForConnected(absl::Duration timeout);

  // --- roster ---
  // Replaces the whole roster (admins; PERMISSION_DENIED for others), or with `dry_run` only
  // says what would change. INVALID_ARGUMENT names the first bad entry
  // (`people[3].skills[0].proficiency`); nothing is applied then.
  absl::StatusOr<v1::ApplyRosterResponse> ApplyRoster(const v1::ApplyRosterRequest& request);
  // One person of the roster; NOT_FOUND for an id not on it.
  absl::StatusOr<v1::Person> GetPerson(const std::string& id);
  // People matching every filter of `request`, by id, a page at a time.
  absl::StatusOr<v1::ListPeopleResponse> ListPeople(const v1::ListPeopleRequest& request);

  // --- presence ---
  // Sets the caller's status (or `person`'s: team leaders for their team, supervisors for their
  // site; PERMISSION_DENIED otherwise). Setting one's own status also counts as a heartbeat;
  // BREAK and OFFLINE withdraw pending offers. INVALID_ARGUMENT for UNSPECIFIED or a reason
  // over 200 bytes; NOT_FOUND for a person not on the roster.
  absl::StatusOr<v1::Presence> SetStatus(v1::PresenceStatus status, const std::string& reason = "",
                                         const std::string& person = "");
  // Keeps desktop session `session_id` alive without an event stream (an EventFeed needs none);
  // the answer says how often to repeat it. INVALID_ARGUMENT for a malformed session id.
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const std::string& session_id);
  // The caller's presence (or `person`'s); NOT_FOUND for an id not on the roster.
  absl::StatusOr<v1::Presence> GetPresence(const std::string& person = "");
  // Who could be offered work now for a skill at a level, optionally in a language: best
  // proficiency first, then longest idle.
  absl::StatusOr<v1::ListAvailableResponse> ListAvailable(const v1::ListAvailableRequest& request);
  // Watches the presence of a site, a team or people (see WatchPresenceRequest): a snapshot,
  // then changes. Returns at once; the stream reads on its own thread. A refusal
  // (PERMISSION_DENIED: not the caller's site, team or mentor) is the stream's end status.
  std::unique_ptr<PresenceWatch> WatchPresence(const v1::WatchPresenceRequest& request);

  // --- escalations ---
  // Escalates a question; it is offered at once to the best eligible helper, or queued. A
  // request without `request_id` gets a random one, so that a retry cannot create a second
  // escalation; retried while the server cannot be reached, like PostMessage.
  // INVALID_ARGUMENT for an empty question, no or unknown skills, a bad language tag, text too
  // long.
  absl::StatusOr<v1::Escalation> Escalate(v1::CreateEscalationRequest request);
  // One escalation; PERMISSION_DENIED for someone not involved in it (nor a supervisor or team
  // leader of its site), NOT_FOUND for an unknown id.
  absl::StatusOr<v1::Escalation> GetEscalation(const std::string& id);
  // Accepts the offer made to the caller; the first accept wins and opens the thread.
  // FAILED_PRECONDITION when the offer is gone (taken, lapsed, withdrawn, or `offer_id` is not
  // the pending one); PERMISSION_DENIED for an offer made to someone else.
  absl::StatusOr<v1::Escalation> AcceptOffer(const std::string& escalation_id,
                                             const std::string& offer_id = "");
  // Declines the offer made to the caller; the escalation moves on at once and is not offered to
  // the caller again. Errors as AcceptOffer.
  absl::StatusOr<v1::Escalation> DeclineOffer(const std::string& escalation_id,
                                              const std::string& offer_id = "",
                                              const std::string& reason = "");
  // Withdraws an escalation (requester only: PERMISSION_DENIED for others);
  // FAILED_PRECONDITION once it is final.
  absl::StatusOr<v1::Escalation> CancelEscalation(const std::string& id,
                                                  const std::string& reason = "");
  // Marks an accepted escalation solved (its helper or requester) and frees the helper's
  // capacity. FAILED_PRECONDITION unless it is accepted.
  absl::StatusOr<v1::Escalation> ResolveEscalation(const std::string& id,
                                                   const std::string& resolution = "");
  // Reopens a resolved escalation (its requester or helper): back to the same helper if they
  // are available, else routed afresh. FAILED_PRECONDITION unless it is resolved.
  absl::StatusOr<v1::Escalation> ReopenEscalation(const std::string& id,
                                                  const std::string& reason = "");
  // Hands an accepted escalation back to the queue needing `request.skills` (its helper).
  // FAILED_PRECONDITION unless it is accepted.
  absl::StatusOr<v1::Escalation> TransferEscalation(const std::string& id,
                                                    const v1::TransferEscalationRequest& request);
  // Brings `expert` into an accepted escalation's thread (its helper or requester). NOT_FOUND
  // for an expert not on the roster.
  absl::StatusOr<v1::Escalation> InviteExpert(const std::string& id, const std::string& expert);
  // The "looking for help" list: waiting escalations the caller could take, best matches
  // marked.
  absl::StatusOr<v1::ListWaitingResponse> ListWaiting(const v1::ListWaitingRequest& request);
  // Takes a waiting escalation, with the same one-winner rule as AcceptOffer.
  // FAILED_PRECONDITION when it is no longer waiting or the caller is not available or at
  // capacity; PERMISSION_DENIED when the caller lacks what it needs.
  absl::StatusOr<v1::Escalation> TakeEscalation(const std::string& id);
  // Who routing considered for an escalation, and why each was or was not offered it
  // (supervisors and team leaders of its site, its requester, admins; PERMISSION_DENIED for
  // others).
  absl::StatusOr<v1::RoutingExplanation> ExplainRouting(const std::string& id);
  // Service-level figures over a recent window, per skill and per team.
  absl::StatusOr<v1::Stats> GetStats(const v1::GetStatsRequest& request);
  // Escalations of one scope (see EscalationScope): the caller's pending offers, soonest
  // deadline first (what a tray shows on start); the caller's open escalations; or, for
  // supervisors and team leaders, their site's or team's open escalations (PERMISSION_DENIED
  // for others). INVALID_ARGUMENT without a scope or for a page size outside 1..200.
  absl::StatusOr<v1::ListEscalationsResponse> ListEscalations(
      const v1::ListEscalationsRequest& request);

  // --- bots ---
  // Bots only (PERMISSION_DENIED for people): from now on every new escalation matching the
  // filter (any of its skills, languages, teams; an empty list matches all) brings the caller
  // into its thread and arrives on the caller's event stream as `escalation_created`; replaces
  // the previous filter. INVALID_ARGUMENT names a malformed skill, language or team.
  absl::StatusOr<v1::BotSubscription> SubscribeEscalations(
      const v1::SubscribeEscalationsRequest& request);
  // Marks the knowledge-base hit `seq` of a thread helpful or not, for the caller (a participant
  // of the thread; PERMISSION_DENIED for bots and others); marking again replaces the caller's
  // mark. Returns everyone's marks. FAILED_PRECONDITION for a message that is not a hit.
  absl::StatusOr<v1::KnowledgeHitRating> RateKnowledgeHit(const std::string& thread_id,
                                                          int64_t seq, bool helpful);

  // --- messaging ---
  // Posts `text` to a thread; see PostMessage. Without a `client_msg_id` a random one is used.
  // Bots post knowledge-base hits with PostMessage (kind MESSAGE_KIND_KB_HIT and `kb_hit` with
  // its `article_id`): each article lands in a thread once, whatever `client_msg_id` says, and a
  // bot posting faster than the server allows gets RESOURCE_EXHAUSTED.
  absl::StatusOr<v1::Message> Post(const std::string& thread_id, const std::string& text,
                                   std::string client_msg_id = "");
  // Posts a message; fills in a random `client_msg_id` when it has none. The server numbers it.
  //
  // Retries (ClientOptions::retry_idempotent_calls): while the server cannot be reached — it
  // is restarting, or the connection broke, possibly after the server stored the message — the
  // post is sent again with the same `client_msg_id`, after a jittered exponential backoff,
  // until it gets an answer or the deadline is near; the server stores a `client_msg_id` once
  // and returns the first message for a repeat, so the message lands exactly once. An
  // UNAVAILABLE answered by a reachable server (its Redis is down) is returned at once. When
  // every attempt failed the last error is returned (UNAVAILABLE); the caller may retry later
  // with the same `client_msg_id`. INVALID_ARGUMENT for empty, oversized or non-UTF-8 text;
  // NOT_FOUND for a thread that does not exist; PERMISSION_DENIED for one the caller is not
  // part of.
  //
  // A desktop that shows its own post from this reply sets `session_id` to its feed's
  // (EventFeed::session_id()): that feed is then not sent the message back, which spares the
  // server and the desktop a write and a read per post. The feed may still deliver it when it
  // was behind or reconnects from an earlier cursor, so apply messages by thread and `seq`.
  absl::StatusOr<v1::Message> PostMessage(v1::PostMessageRequest request);
  // A page of a thread's messages in sequence order (or the newest before `before_seq`).
  // NOT_FOUND / PERMISSION_DENIED as PostMessage.
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(const v1::ListMessagesRequest& request);
  // One thread with the caller's unread count. NOT_FOUND / PERMISSION_DENIED as PostMessage.
  absl::StatusOr<v1::Thread> GetThread(const std::string& id);
  // The caller's threads, most recently active first, with unread counts.
  absl::StatusOr<v1::ListThreadsResponse> ListThreads(const v1::ListThreadsRequest& request);
  // Opens (or finds) the direct thread with `person`. NOT_FOUND for someone not on the roster;
  // INVALID_ARGUMENT for the caller themselves.
  absl::StatusOr<v1::Thread> OpenDirectThread(const std::string& person);
  // Opens (or finds) the thread of `team` (the caller's own; supervisors: any of their site;
  // PERMISSION_DENIED otherwise).
  absl::StatusOr<v1::Thread> OpenTeamThread(const std::string& team);
  // Joins an escalation thread of the caller's site (supervisors; PERMISSION_DENIED for
  // others). Joining twice changes nothing.
  absl::StatusOr<v1::Thread> JoinThread(const std::string& thread_id);
  // Replaces the text of the caller's own message; everyone is told. PERMISSION_DENIED for
  // someone else's message; FAILED_PRECONDITION for a deleted one.
  absl::StatusOr<v1::Message> EditMessage(const std::string& thread_id, int64_t seq,
                                          const std::string& text);
  // Deletes the caller's own message (its place in the thread stays). Errors as EditMessage.
  absl::StatusOr<v1::Message> DeleteMessage(const std::string& thread_id, int64_t seq);
  // Moves the caller's read marker forward to `seq` (never back); the others are told.
  // INVALID_ARGUMENT for a `seq` past the thread's last.
  absl::StatusOr<v1::Thread> MarkRead(const std::string& thread_id, int64_t seq);
  // Tells the others the caller is typing (rate-limited by the server; never stored).
  absl::Status SetTyping(const std::string& thread_id);

  // Opens the caller's event feed: the event stream kept open across reconnects, with
  // callbacks or Next() (see EventFeed and FeedOptions). Starts its threads and returns at
  // once; connection problems are reported as state changes, never as an error here.
  std::unique_ptr<EventFeed> OpenFeed(FeedOptions options);

  // The raw event stream, for callers that handle reconnects themselves (most want OpenFeed):
  // opens it after `after_cursor` (empty: from now on; "0": everything retained). Returns at
  // once; the stream reads on its own thread, has no deadline, and ends when cancelled or when
  // the server goes (UNAVAILABLE) or refuses it (PERMISSION_DENIED for someone not on the
  // roster, INVALID_ARGUMENT for a malformed cursor).
  std::unique_ptr<EventStream> Subscribe(const std::string& after_cursor,
                                         const std::string& session_id = "");

  // A random id suitable for `client_msg_id`, `request_id` or a session id. Any thread.
  static std::string NewRequestId();

 private:
  // The connection and stubs, shared with the feeds and streams opened from this client.
  std::shared_ptr<internal::ClientImpl> impl_;
};

}  // namespace backline
