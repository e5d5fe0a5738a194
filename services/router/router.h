// The routing engine: creates escalations and moves them through their life — offer to the
// best eligible helper of the open rings, accept, decline, lapse, cancel, resolve, reopen,
// transfer, invite — and reacts to helpers becoming available or leaving and to timers (offer
// deadlines, rings opening, waiting too long). Stateless between calls: everything is in Redis,
// so any number of router instances can run against one Redis, and each step is one atomic
// script that detects when another instance moved first. What a router keeps (the bot
// subscriptions, the requesters' roster records) the create script checks against Redis's
// version or stamp of it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "backline/v1/escalations.pb.h"
#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"
#include "services/router/escalation_rules.h"
#include "services/router/redis_escalation_store.h"
#include "services/store/due_queue.h"
#include "services/store/event_log.h"

namespace backline::router {

class Router {
 public:
  Router(RedisEscalationStore* escalations, presence::RedisPresenceStore* presence,
         presence::RedisRosterStore* roster, store::EventLog* events, store::DueQueue* timers,
         const Clock* clock, RoutingConfig config);

  // --- calls made by people (router.cc) ---
  absl::StatusOr<v1::Escalation> Create(const Principal& caller,
                                        v1::CreateEscalationRequest request);
  absl::StatusOr<v1::Escalation> Get(const Principal& caller, absl::string_view id);
  absl::StatusOr<v1::Escalation> Accept(const Principal& caller, absl::string_view id,
                                        absl::string_view offer_id);
  absl::StatusOr<v1::Escalation> Decline(const Principal& caller, absl::string_view id,
                                         absl::string_view offer_id, absl::string_view reason);
  absl::StatusOr<v1::Escalation> Cancel(const Principal& caller, absl::string_view id,
                                        absl::string_view reason);
  absl::StatusOr<v1::Escalation> Resolve(const Principal& caller, absl::string_view id,
                                         absl::string_view resolution);
  absl::StatusOr<v1::Escalation> Reopen(const Principal& caller, absl::string_view id,
                                        absl::string_view reason);
  absl::StatusOr<v1::Escalation> Transfer(const Principal& caller, absl::string_view id,
                                          const v1::TransferEscalationRequest& request);
  absl::StatusOr<v1::Escalation> Invite(const Principal& caller, absl::string_view id,
                                        absl::string_view expert);
  absl::StatusOr<v1::ListWaitingResponse> ListWaiting(const Principal& caller, int limit);
  absl::StatusOr<v1::Escalation> Take(const Principal& caller, absl::string_view id);
  absl::StatusOr<v1::RoutingExplanation> Explain(const Principal& caller, absl::string_view id);
  absl::StatusOr<v1::Stats> Stats(const Principal& caller, const v1::GetStatsRequest& request);
  absl::StatusOr<v1::ListEscalationsResponse> List(const Principal& caller,
                                                   v1::EscalationScope scope, int limit);
  absl::StatusOr<v1::BotSubscription> SubscribeBot(const Principal& caller,
                                                   const v1::SubscribeEscalationsRequest& request);

  // --- background work (routing.cc; idempotent, safe on several instances at once) ---
  // Offers a queued escalation to the best eligible helper of its open rings; leaves it queued
  // (and schedules the next ring's opening) if nobody is.
  absl::Status Route(absl::string_view id);
  // Handles a claimed timer: an offer's deadline, a ring opening, waiting too long, expiry.
  absl::Status HandleTimer(absl::string_view member);
  // A helper became offerable: route the queued escalations they qualify for.
  absl::Status OnHelperAvailable(absl::string_view helper);
  // A helper went on a customer call with room left: route queued URGENT escalations of groups
  // whose policy lets people on a call take them.
  absl::Status OnHelperOnCall(absl::string_view helper);
  // A helper left (break, on a call, offline, removed): withdraw the pending offers they may no
  // longer hold and re-route those.
  absl::Status OnHelperUnavailable(absl::string_view helper);
  // Tries to route the first `limit` queued escalations, and tells their requesters about
  // changed queue positions.
  absl::Status DrainQueue(int limit);

  // Offer deadlines and the other timers, as `<kind>|<escalation>|<detail>` members.
  store::DueQueue& timers() { return *timers_; }
  const RoutingConfig& config() const { return config_; }

 private:
  // Routes `current` (QUEUED) once through its open rings. `first_ring` (may be null) is the
  // first ring's ranking already read (FirstRingSelection).
  absl::StatusOr<Outcome> TryRoute(
      const v1::Escalation& current,
      const absl::StatusOr<std::vector<presence::Candidate>>* first_ring = nullptr);
  // The selection of the first ring's ranking, when it is one script call that needs nothing
  // but `e` (no mentor to merge in): Create sends it with the create script, in one round trip.
  std::optional<presence::HelperRequirements> FirstRingSelection(const v1::Escalation& e,
                                                                 int* limit) const;
  // Offers `current` to all of `helpers` at once; kHelperGone names who was not free in `*gone`.
  absl::StatusOr<Outcome> TryOffer(const v1::Escalation& current,
                                   const std::vector<presence::Candidate>& helpers,
                                   std::string* gone);
  // The ranked candidates of one ring; `ranked` (may be null) is its selection among the
  // offerable, already read.
  absl::StatusOr<std::vector<presence::Candidate>> RingCandidates(
      const v1::Escalation& e, const Ring& ring, const GroupPolicy& group,
      const std::string& mentor, int limit,
      const absl::StatusOr<std::vector<presence::Candidate>>* ranked = nullptr);
  // Whom a ring may offer `e` to (skills at the ring's minimum, language, scope, roles...).
  presence::HelperRequirements RingRequirements(const v1::Escalation& e, const Ring& ring,
                                                const GroupPolicy& group) const;
  // The ring's people, without regard to skills or presence (capped).
  absl::StatusOr<std::vector<std::string>> RingMembers(const v1::Escalation& e, const Ring& ring,
                                                       const std::string& mentor);
  // Whether anybody of the ring is logged in (shown other than OFFLINE).
  absl::StatusOr<bool> AnyoneLoggedIn(const v1::Escalation& e, const Ring& ring,
                                      const std::string& mentor);
  std::string MentorOf(const v1::Escalation& e, const GroupPolicy& group);
  // Takes back the pending offers of `helpers` for `reason` (`lapsed`: they count as missed)
  // and re-routes the escalation once nobody holds an offer of it.
  absl::Status ReleaseOffers(const v1::Escalation& current, const std::vector<std::string>& helpers,
                             absl::string_view reason, bool lapsed);
  // Tells the qualified helpers that `e` is (no longer) waiting, for their "looking for help"
  // lists; only transitions are told.
  void AnnounceWaiting(const v1::Escalation& e, bool waiting);
  // The telling alone, once the record of what was announced has changed.
  void TellWaiting(const v1::Escalation& e, bool waiting);
  absl::Status HandleWaitedTooLong(const v1::Escalation& e);
  // Estimated wait of a queued escalation, from recent waits for its skill.
  void FillWaitEstimate(v1::Escalation* e) ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the recent waits again when they are a minute old — outside mu_, which every create
  // call takes: the other callers keep the last figures until the read is done.
  void RefreshRecentWaits(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts the wait of `e` (never offered before) for its skill's estimate until the next read.
  void NoteFirstOffer(const v1::Escalation& e, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Thread participants to tell about a system message: the stored ones, or requester and
  // helper when the thread is new.
  static std::vector<std::string> Audience(const StoredEscalation& stored);
  // May `caller` see `e`? Its requester, helpers, the person it is offered to, and team
  // leaders, supervisors and admins of its site.
  absl::Status CheckMayView(const Principal& caller, const v1::Escalation& e);
  // The bots whose subscriptions match `e`, and the subscriptions' version they were matched
  // against; `reload` reads the subscriptions from Redis first.
  absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> MatchingBots(const v1::Escalation& e,
                                                                            bool reload);
  // The requester's roster record with the stamp of the roster it is from: from the cache of
  // requesters unless `reload` (the create script found the roster changed since).
  absl::StatusOr<presence::RedisRosterStore::VersionedPerson> Requester(const std::string& id,
                                                                        bool reload);

  RedisEscalationStore* escalations_;
  presence::RedisPresenceStore* presence_;
  presence::RedisRosterStore* roster_;
  store::EventLog* events_;
  store::DueQueue* timers_;
  const Clock* clock_;
  RoutingConfig config_;

  absl::Mutex mu_;
  // Median time from creation to first offer, per first skill, over the last hour's most recent
  // kWaitSample escalations (so that reading them costs the same at any rate), read again at
  // most once a minute.
  static constexpr int kWaitSample = 1000;
  std::map<std::string, absl::Duration> recent_waits_ ABSL_GUARDED_BY(mu_);
  absl::Time recent_waits_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool recent_waits_read_ ABSL_GUARDED_BY(mu_) = false;  // once the first read is done
  // First offers this instance made since the last read began, as waits per first skill: a
  // skill that had none in the last hour has an estimate from its first wait on, not from the
  // next read (a read already under way may not have seen the offer).
  std::map<std::string, absl::Duration> first_waits_ ABSL_GUARDED_BY(mu_);
  // Bot subscriptions as last read; the create script checks their version.
  RedisEscalationStore::BotSubscriptions bots_ ABSL_GUARDED_BY(mu_);
  bool bots_loaded_ ABSL_GUARDED_BY(mu_) = false;
  // Roster records of people who escalated, all from the roster stamped `requesters_stamp_`
  // (the create script checks it, so a record is never used past a roster change); dropped
  // whole when another stamp is seen or it reaches kMaxCachedRequesters.
  static constexpr size_t kMaxCachedRequesters = 100000;
  absl::flat_hash_map<std::string, v1::Person> requesters_ ABSL_GUARDED_BY(mu_);
  std::string requesters_stamp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace backline::router
