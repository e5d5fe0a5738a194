// The routing engine: creates escalations and moves them through their life — offer to the
// best eligible helper, accept, decline, lapse, cancel, resolve — and reacts to helpers
// becoming available or leaving. Stateless between calls: everything is in Redis, so any number
// of router instances can run against one Redis, and each step is one atomic script that
// detects when another instance moved first.
#pragma once

#include <string>

#include "absl/status/statusor.h"
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

  // --- calls made by people ---
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

  // --- background work (idempotent; safe to run on several instances at once) ---
  // Offers a queued escalation to the best eligible helper; leaves it queued if nobody is.
  absl::Status Route(absl::string_view id);
  // Handles a claimed timer (an offer's deadline).
  absl::Status HandleTimer(absl::string_view member);
  // A helper became offerable: offer them the queued escalations they qualify for.
  absl::Status OnHelperAvailable(absl::string_view helper);
  // A helper left (break, offline, removed): withdraw their pending offers and re-route.
  absl::Status OnHelperUnavailable(absl::string_view helper);
  // Tries to route the first `limit` queued escalations.
  absl::Status DrainQueue(int limit);

  // Offer deadlines, as `offer|<escalation>|<version>` members.
  store::DueQueue& timers() { return *timers_; }
  const RoutingConfig& config() const { return config_; }

 private:
  // Routes `current` (QUEUED) once: tries the best candidates in turn.
  absl::StatusOr<Outcome> TryRoute(const v1::Escalation& current);
  absl::StatusOr<Outcome> TryOffer(const v1::Escalation& current, absl::string_view helper);
  // Takes back `current`'s pending offer for `reason` and re-routes it.
  absl::Status ReleaseAndReroute(const v1::Escalation& current, absl::string_view reason,
                                 bool lapsed);
  // May `caller` see `e`? Its requester, helpers, the person it is offered to, and team
  // leaders, supervisors and admins of its site.
  absl::Status CheckMayView(const Principal& caller, const v1::Escalation& e);

  RedisEscalationStore* escalations_;
  presence::RedisPresenceStore* presence_;
  presence::RedisRosterStore* roster_;
  store::EventLog* events_;
  store::DueQueue* timers_;
  const Clock* clock_;
  RoutingConfig config_;
};

}  // namespace backline::router
