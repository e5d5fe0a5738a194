// The rules of an escalation's life, free of storage and RPC: validating a request, building
// the escalation, its queue order, the state transitions (each bumps the version), and the
// events each party receives. The router applies them; the Redis scripts enforce atomically
// that the state they were computed from is still current.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/escalations.pb.h"
#include "services/common/events.h"
#include "services/router/routing_policy.h"

namespace backline::router {

inline constexpr absl::string_view kSystemSender = "backline";
inline constexpr size_t kMaxQuestionBytes = 4096;
inline constexpr int kMaxSkillsPerEscalation = 8;

struct RoutingConfig {
  // Rings, order and waiting limits per skill group.
  RoutingPolicy policy = DefaultRoutingPolicy();
  // How long a helper has to answer an offer.
  absl::Duration offer_timeout = absl::Seconds(15);
  // Offers in a row a helper may let lapse before being set on BREAK.
  int max_missed_offers = 3;
  // Candidates tried per routing attempt before the ranking is recomputed.
  int candidates_per_attempt = 3;
  // How long a claimed timer stays with the instance that claimed it before another may.
  absl::Duration timer_lease = absl::Seconds(5);
};

// Validates a create request and puts it in canonical form (language casing). Names the field.
absl::Status ValidateCreateRequest(v1::CreateEscalationRequest* request);
// Validates required skills (1..8, each once, proficiency 1..5; 0 becomes 1).
absl::Status ValidateSkills(google::protobuf::RepeatedPtrField<v1::SkillRequirement>* skills);

// A new QUEUED escalation, version 1.
v1::Escalation NewEscalation(std::string id, const v1::Person& requester,
                             const v1::CreateEscalationRequest& request, absl::Time now);

// Lower is served first: priority, then the age of the customer's call (its start time when the
// requester gave one, else the escalation's creation).
double QueueScore(const v1::Escalation& escalation);
// `language|requester|skill:min;skill:min`, as queued_for_helper.lua reads it.
std::string QueueRequirements(const v1::Escalation& escalation);

// The wait estimate of a queued escalation: how long recent ones of its skill waited for their
// first offer (`recent_median`) times its place in the queue (at least 1), less what it has
// waited already; never below zero.
absl::Duration EstimatedWait(absl::Duration recent_median, int queue_position,
                             absl::Duration waited);

// The part of an escalation that is stored whole (question, skills, language, customer...):
// the state, offer, helper and time stamps are kept beside it, field by field.
v1::Escalation ImmutablePart(const v1::Escalation& e);

// `esc-7k2m9q4xwd` -> `thr-7k2m9q4xwd`.
std::string ThreadIdFor(absl::string_view escalation_id);
// Timer members: `offer|<escalation>|<version>` (an offer's deadline), `ring|<escalation>|<n>`
// (ring n opens), `wait|<escalation>|0` (waited too long: broadcast), `expire|<escalation>|0`.
std::string OfferTimerMember(const v1::Escalation& escalation);
std::string TimerMember(absl::string_view kind, absl::string_view escalation_id, int64_t detail);
bool ParseTimer(absl::string_view member, std::string* kind, std::string* escalation_id,
                int64_t* detail);

bool IsFinal(v1::EscalationState state);
// Whether `person` was ever offered `e` / declined or let lapse an offer of it.
bool WasOfferedTo(const v1::Escalation& e, absl::string_view person);
bool HasDeclined(const v1::Escalation& e, absl::string_view person);
// The pending offer of `e` to `person`, or null.
const v1::Offer* PendingOfferTo(const v1::Escalation& e, absl::string_view person);
// The helpers `e` is offered to right now, best-ranked first.
std::vector<std::string> PendingHelpers(const v1::Escalation& e);

// How many times a call re-reads and recomputes after another instance moved first, and the
// error when that is not enough.
inline constexpr int kMaxTransitionAttempts = 8;
absl::Status ContendedError(absl::string_view what);

// Transitions. Each returns the escalation after the change, with the version bumped.
// Offered to each (helper, offer id), best-ranked first, all with the same deadline.
v1::Escalation WithOffers(const v1::Escalation& e,
                          const std::vector<std::pair<std::string, std::string>>& offers,
                          absl::Time now, absl::Time deadline);
v1::Escalation WithOffer(const v1::Escalation& e, absl::string_view helper,
                         absl::string_view offer_id, absl::Time now, absl::Time deadline);
// Accepted by `helper`, who holds one of its pending offers; the other offers are gone.
v1::Escalation WithAccept(const v1::Escalation& e, absl::string_view helper, absl::Time now);
// The offers to `helpers` taken back (declined, lapsed, withdrawn): they are not offered it
// again. Still OFFERED while others hold offers; QUEUED once nobody does.
v1::Escalation WithoutOffers(const v1::Escalation& e, const std::vector<std::string>& helpers);
// Every pending offer taken back: QUEUED again.
v1::Escalation Requeued(const v1::Escalation& e);
v1::Escalation Closed(const v1::Escalation& e, v1::EscalationState state, absl::string_view reason,
                      absl::Time now);

// Events.
v1::Event EscalationUpdatedEvent(const v1::Escalation& e, absl::Time now);
// The offer of `e` to `helper` (who must hold one), for that helper.
v1::Event OfferMadeEvent(const v1::Escalation& e, absl::string_view helper, absl::Time now);
v1::Event OfferClosedEvent(const v1::Offer& offer, absl::string_view reason, absl::Time now);
v1::Message SystemMessage(absl::string_view thread_id, int64_t seq, absl::string_view text,
                          absl::Time now);

}  // namespace backline::router
