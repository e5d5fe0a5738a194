// Escalations in Redis: one hash per escalation (the immutable part as a serialized proto, plus
// state, version, offer, helper, thread and time stamps), the set of helpers who declined it,
// the queue, the queue requirements and the timers. Every transition is one script that checks
// the escalation is still at the version the router computed the transition from (else
// CONFLICT, and the router reloads) and appends the resulting events to the users' logs.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/escalations.pb.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::router {

// Events to append when a transition commits: (recipient, event).
using EventList = std::vector<std::pair<std::string, v1::Event>>;

enum class Outcome {
  kOk,
  kConflict,    // the escalation changed since it was read
  kHelperGone,  // the helper is not offerable any more
  kLapsed,      // the offer's deadline has passed
  kAlready,     // the change was made before (joining someone who is in already)
};

// Create found the bot subscriptions changed since they were matched.
inline constexpr absl::string_view kBotsChanged = "bot subscriptions changed";
// Create found the roster changed since the requester's record was read.
inline constexpr absl::string_view kRosterChanged = "roster changed";

struct StoredEscalation {
  v1::Escalation escalation;
  int64_t thread_last_seq = 0;              // of its thread, 0 when there is none
  std::vector<std::string> thread_members;  // participants of its thread, sorted
};

// How the helpers were chosen, for the offer's own checks.
struct OfferOptions {
  // Helpers who may be ON_CALL (an URGENT escalation, by policy) rather than offerable.
  std::set<std::string> on_call;
  // Round-robin groups: the pointer to set to the first helper when the offer is made.
  std::string round_robin_key;
};

class RedisEscalationStore {
 public:
  RedisEscalationStore(store::RedisClient* redis, const store::Keys* keys,
                       store::EventLogConfig events, const Clock* clock);

  // NOT_FOUND when there is no such escalation.
  absl::StatusOr<StoredEscalation> Get(absl::string_view id);
  // Several escalations in one round trip, in the order of `ids`, each as Get would answer it;
  // the call itself fails only when Redis does.
  absl::StatusOr<std::vector<absl::StatusOr<StoredEscalation>>> GetMany(
      const std::vector<std::string>& ids);

  // A routing timer: its member in the timers queue and when it is due.
  struct Timer {
    std::string member;
    absl::Time due;
  };
  // Stores a new QUEUED escalation and, in the same step, its timers (so no escalation is ever
  // stored without its waiting and expiry limits). Returns its id, or the id of the escalation
  // the same requester created with the same request id. INVALID_ARGUMENT for a skill nobody
  // has.
  // `bots` (matched against subscriptions at `bots_version`) join its thread; kBotsChanged when
  // the subscriptions changed since (match again). The requester's team and site were read
  // from the roster stamped `roster_stamp`; kRosterChanged when the roster changed since (read
  // the requester again). `then` (may be null) is a script call that only reads — the first
  // ranking of helpers — sent in the same round trip, which Redis runs right after the create
  // script; its reply goes to `*then_reply` whenever the round trip took place.
  absl::StatusOr<std::string> Create(const v1::Escalation& escalation, absl::string_view request_id,
                                     const std::vector<Timer>& timers,
                                     const std::vector<std::string>& bots, int64_t bots_version,
                                     absl::string_view roster_stamp, const EventList& events,
                                     store::RedisClient::ScriptInvocation* then = nullptr,
                                     absl::StatusOr<store::RedisReply>* then_reply = nullptr);

  // Bot subscriptions and their version.
  struct BotSubscriptions {
    int64_t version = 0;
    std::vector<v1::BotSubscription> bots;
  };
  absl::StatusOr<BotSubscriptions> LoadBotSubscriptions();
  absl::Status SetBotSubscription(const v1::BotSubscription& subscription);

  // Offers `before` to every helper of `after.offers()` at once, or to none: kHelperGone names
  // the first helper who is not offerable any more in `*gone` (may be null). On success it is
  // no longer marked as announced waiting; `*was_announced` (may be null) says whether it was.
  absl::StatusOr<Outcome> Offer(const v1::Escalation& before, const v1::Escalation& after,
                                const EventList& events, const OfferOptions& options,
                                std::string* gone = nullptr, bool* was_announced = nullptr);
  // `after.helper()` accepts; the other pending offers are given back.
  absl::StatusOr<Outcome> Accept(const v1::Escalation& before, const v1::Escalation& after,
                                 const v1::Message& first_message, const EventList& events);
  // Takes the pending offers of `helpers` back (`lapsed`: they let them time out); `after` is
  // WithoutOffers(before, helpers). On success `*missed` (may be null) holds each helper's
  // count of offers missed in a row, in `helpers` order.
  absl::StatusOr<Outcome> Release(const v1::Escalation& before, const v1::Escalation& after,
                                  const std::vector<std::string>& helpers, bool lapsed,
                                  const EventList& events, std::vector<int>* missed);
  // Moves to a final state; `message` (may be null) is appended to the thread.
  absl::StatusOr<Outcome> Close(const v1::Escalation& before, const v1::Escalation& after,
                                const v1::Message* message, const EventList& events);

  // Reopens a RESOLVED escalation: `back` to its helper (who must be offerable), else queued.
  absl::StatusOr<Outcome> Reopen(const v1::Escalation& before, const v1::Escalation& after,
                                 bool back, const v1::Message& message, const EventList& events);
  // Hands an ACCEPTED escalation back to the queue with `after`'s skills.
  absl::StatusOr<Outcome> Transfer(const v1::Escalation& before, const v1::Escalation& after,
                                   const v1::Message& message, const EventList& events);
  // Brings `expert` into the thread of an ACCEPTED escalation.
  absl::StatusOr<Outcome> Invite(const v1::Escalation& before, absl::string_view expert,
                                 const v1::Message& message, const EventList& events);
  // Records, once, that a QUEUED escalation was broadcast to supervisors.
  absl::StatusOr<Outcome> MarkBroadcast(const v1::Escalation& e, const EventList& events);

  // Calls `fn` with each escalation created at or after `from` (without its declined, offered
  // and expert lists), oldest first, `page` at a time: one round trip per page brings its
  // escalations and the next page's ids (one round trip more than pages), so that a long window
  // (a month of service-level figures) holds neither all its escalations in this process's
  // memory nor all their replies in Redis's output buffer. Escalations created meanwhile may or
  // may not be visited; none is visited twice. `fn` returns false to stop.
  static constexpr int kCreatedPage = 1024;
  // Where reading the `newest` escalations created most recently at or after `from` starts: the
  // creation time of the `newest`-th most recent of them, or `from` when there are fewer.
  absl::StatusOr<absl::Time> NewestCreatedSince(absl::Time from, int newest);
  absl::Status ForEachCreatedSince(absl::Time from,
                                   const std::function<bool(const v1::Escalation&)>& fn,
                                   int page = kCreatedPage);

  // Queued escalation ids, in queue order.
  absl::StatusOr<std::vector<std::string>> QueueHead(int limit);
  // Queued escalations `helper` qualifies for, in queue order (looking at the first `scan`).
  absl::StatusOr<std::vector<std::string>> QueuedFor(absl::string_view helper, int limit, int scan);
  const store::Keys& keys() const { return *keys_; }
  // Members of a set, sorted (role, team and site indexes for ring membership).
  absl::StatusOr<std::vector<std::vector<std::string>>> SetsMembers(
      const std::vector<std::string>& keys);
  // Remembers that the "looking for help" list was told `id` waits; returns whether it was
  // (for `waiting` false: whether it had been announced, and forgets it).
  absl::StatusOr<bool> MarkAnnounced(absl::string_view id, bool waiting);
  // Position announced to the requester last, to announce only changes (0 when none).
  absl::StatusOr<bool> PositionChanged(absl::string_view id, int position);

  // The key of the set of helpers who declined escalation `id`.
  std::string DeclinedSetKey(absl::string_view id) const { return keys_->EscalationDeclined(id); }
  // Escalations currently offered to `helper`.
  absl::StatusOr<std::vector<std::string>> PendingOffersOf(absl::string_view helper);
  // The knowledge-base hits posted in the hours overlapping [from, to] into escalations of
  // `site` (every site when empty), per bot and article, most posted first.
  absl::StatusOr<std::vector<v1::KnowledgeStats>> KnowledgeStats(absl::Time from, absl::Time to,
                                                                 absl::string_view site);
  // Escalations whose threads are among the `scan` most recently active threads of `person`,
  // most recent first.
  absl::StatusOr<std::vector<std::string>> EscalationsInThreadsOf(absl::string_view person,
                                                                  int scan);

 private:
  store::ScriptCall NewCall(const EventList& events);
  absl::StatusOr<Outcome> RunTransition(store::ScriptCall& call, const store::RedisScript& script,
                                        store::RedisReply* reply = nullptr);

  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;
};

}  // namespace backline::router
