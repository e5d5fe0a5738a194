#include "services/router/router.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/validation.h"

namespace backline::router {
namespace {

// How many times a call re-reads and recomputes after another instance moved first.
constexpr int kMaxAttempts = 8;

absl::Status Contended(absl::string_view what) {
  return absl::AbortedError(absl::StrCat(what, ": the escalation kept changing; try again"));
}

bool WasOfferedTo(const v1::Escalation& e, absl::string_view person) {
  return std::find(e.offered_to().begin(), e.offered_to().end(), person) != e.offered_to().end();
}

bool Declined(const v1::Escalation& e, absl::string_view person) {
  return std::find(e.declined_by().begin(), e.declined_by().end(), person) != e.declined_by().end();
}

}  // namespace

Router::Router(RedisEscalationStore* escalations, presence::RedisPresenceStore* presence,
               presence::RedisRosterStore* roster, store::EventLog* events, store::DueQueue* timers,
               const Clock* clock, RoutingConfig config)
    : escalations_(escalations),
      presence_(presence),
      roster_(roster),
      events_(events),
      timers_(timers),
      clock_(clock),
      config_(config) {}

absl::StatusOr<v1::Escalation> Router::Create(const Principal& caller,
                                              v1::CreateEscalationRequest request) {
  if (caller.role == v1::ROLE_BOT) {
    return absl::PermissionDeniedError("bots cannot escalate");
  }
  BL_RETURN_IF_ERROR(ValidateCreateRequest(&request));
  auto requester = roster_->Get(caller.id);
  if (absl::IsNotFound(requester.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("\"", caller.id, "\" is not on the roster, so cannot escalate"));
  }
  if (!requester.ok()) return requester.status();
  const absl::Time now = clock_->Now();
  v1::Escalation e = NewEscalation(NewServerId("esc"), *requester, request, now);
  BL_ASSIGN_OR_RETURN(std::string id,
                      escalations_->Create(e, request.request_id(),
                                           {{e.requester(), EscalationUpdatedEvent(e, now)}}));
  if (id == e.id()) {
    auto routed = TryRoute(e);
    if (!routed.ok()) {
      // Stored and queued: a router picks it up from the queue when Redis is back.
      BL_LOG(WARNING) << "routing " << id << " right after creation failed: " << routed.status();
    }
  }
  BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
  return std::move(stored.escalation);
}

absl::Status Router::CheckMayView(const Principal& caller, const v1::Escalation& e) {
  if (caller.id == e.requester() || caller.id == e.helper() || caller.id == e.offer().helper() ||
      WasOfferedTo(e, caller.id) || caller.role == v1::ROLE_ADMIN) {
    return absl::OkStatus();
  }
  if (caller.role == v1::ROLE_SUPERVISOR || caller.role == v1::ROLE_TEAM_LEADER) {
    auto me = roster_->Get(caller.id);
    if (me.ok() && me->site() == e.site()) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat("escalation ", e.id(), " is not yours to see"));
}

absl::StatusOr<v1::Escalation> Router::Get(const Principal& caller, absl::string_view id) {
  BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
  BL_RETURN_IF_ERROR(CheckMayView(caller, stored.escalation));
  return std::move(stored.escalation);
}

absl::StatusOr<v1::Escalation> Router::Accept(const Principal& caller, absl::string_view id,
                                              absl::string_view offer_id) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    const bool offered_to_caller =
        e.state() == v1::ESCALATION_STATE_OFFERED && e.offer().helper() == caller.id;
    if (!offered_to_caller) {
      if (caller.id == e.helper()) {
        return absl::FailedPreconditionError(
            absl::StrCat("escalation ", id, " is already accepted by you"));
      }
      if (WasOfferedTo(e, caller.id) || caller.id == e.offer().helper()) {
        return absl::FailedPreconditionError(
            absl::StrCat("your offer of escalation ", id, " is no longer pending"));
      }
      if (caller.id == e.requester()) {
        return absl::PermissionDeniedError("you cannot accept your own escalation");
      }
      return absl::PermissionDeniedError(absl::StrCat("escalation ", id, " is not offered to you"));
    }
    if (!offer_id.empty() && offer_id != e.offer().offer_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("offer ", offer_id, " is no longer pending"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = WithAccept(e, now);
    v1::Message hello = SystemMessage(after.thread_id(), 1,
                                      absl::StrCat(caller.id, " accepted the escalation"), now);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    const v1::Event posted = MessagePostedEvent(hello, now);
    EventList events = {{e.requester(), updated},
                        {caller.id, updated},
                        {e.requester(), posted},
                        {caller.id, posted}};
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Accept(e, after, hello, events));
    if (outcome == Outcome::kOk) return after;
    if (outcome == Outcome::kLapsed) {
      return absl::FailedPreconditionError(
          absl::StrCat("your offer of escalation ", id, " has lapsed"));
    }
  }
  return Contended("accept");
}

absl::StatusOr<v1::Escalation> Router::Decline(const Principal& caller, absl::string_view id,
                                               absl::string_view offer_id,
                                               absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (e.state() != v1::ESCALATION_STATE_OFFERED || e.offer().helper() != caller.id) {
      if (WasOfferedTo(e, caller.id) || caller.id == e.helper()) {
        return absl::FailedPreconditionError(
            absl::StrCat("your offer of escalation ", id, " is no longer pending"));
      }
      return absl::PermissionDeniedError(absl::StrCat("escalation ", id, " is not offered to you"));
    }
    if (!offer_id.empty() && offer_id != e.offer().offer_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("offer ", offer_id, " is no longer pending"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = Requeued(e);
    EventList events = {{caller.id, OfferClosedEvent(e.offer(), "declined", now)},
                        {e.requester(), EscalationUpdatedEvent(after, now)}};
    BL_ASSIGN_OR_RETURN(Outcome outcome,
                        escalations_->Release(e, after, /*lapsed=*/false, events, nullptr));
    if (outcome == Outcome::kOk) {
      auto routed = TryRoute(after);
      if (!routed.ok()) BL_LOG(WARNING) << "re-routing " << id << ": " << routed.status();
      BL_ASSIGN_OR_RETURN(StoredEscalation now_stored, escalations_->Get(id));
      return std::move(now_stored.escalation);
    }
  }
  return Contended("decline");
}

absl::StatusOr<v1::Escalation> Router::Cancel(const Principal& caller, absl::string_view id,
                                              absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (caller.id != e.requester()) {
      BL_RETURN_IF_ERROR(CheckMayView(caller, e));
      return absl::PermissionDeniedError("only the requester may cancel an escalation");
    }
    if (IsFinal(e.state())) {
      return absl::FailedPreconditionError(
          absl::StrCat("escalation ", id, " is already ", v1::EscalationState_Name(e.state())));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = Closed(e, v1::ESCALATION_STATE_CANCELLED, reason, now);
    EventList events = {{e.requester(), EscalationUpdatedEvent(after, now)}};
    std::optional<v1::Message> bye;
    if (e.state() == v1::ESCALATION_STATE_OFFERED) {
      events.push_back({e.offer().helper(), OfferClosedEvent(e.offer(), "cancelled", now)});
    } else if (e.state() == v1::ESCALATION_STATE_ACCEPTED) {
      bye = SystemMessage(
          e.thread_id(), stored.thread_last_seq + 1,
          absl::StrCat(caller.id, " cancelled the escalation", reason.empty() ? "" : ": ", reason),
          now);
      events.push_back({e.helper(), EscalationUpdatedEvent(after, now)});
      events.push_back({e.requester(), MessagePostedEvent(*bye, now)});
      events.push_back({e.helper(), MessagePostedEvent(*bye, now)});
    }
    BL_ASSIGN_OR_RETURN(Outcome outcome,
                        escalations_->Close(e, after, bye ? &*bye : nullptr, events));
    if (outcome == Outcome::kOk) return after;
  }
  return Contended("cancel");
}

absl::StatusOr<v1::Escalation> Router::Resolve(const Principal& caller, absl::string_view id,
                                               absl::string_view resolution) {
  BL_RETURN_IF_ERROR(CheckText("resolution", resolution, 0, kMaxQuestionBytes));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    const bool party = caller.id == e.helper() || caller.id == e.requester();
    if (!party && !WasOfferedTo(e, caller.id)) {
      BL_RETURN_IF_ERROR(CheckMayView(caller, e));
      return absl::PermissionDeniedError(
          "only the helper or the requester may resolve an escalation");
    }
    if (e.state() != v1::ESCALATION_STATE_ACCEPTED) {
      return absl::FailedPreconditionError(
          absl::StrCat("escalation ", id, " is ", v1::EscalationState_Name(e.state()),
                       "; only an accepted escalation can be resolved"));
    }
    if (!party) {
      return absl::PermissionDeniedError(
          "only the helper or the requester may resolve an escalation");
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = Closed(e, v1::ESCALATION_STATE_RESOLVED, resolution, now);
    v1::Message bye = SystemMessage(e.thread_id(), stored.thread_last_seq + 1,
                                    absl::StrCat(caller.id, " resolved the escalation",
                                                 resolution.empty() ? "" : ": ", resolution),
                                    now);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    const v1::Event posted = MessagePostedEvent(bye, now);
    EventList events = {{e.requester(), updated},
                        {e.helper(), updated},
                        {e.requester(), posted},
                        {e.helper(), posted}};
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Close(e, after, &bye, events));
    if (outcome == Outcome::kOk) return after;
  }
  return Contended("resolve");
}

absl::StatusOr<Outcome> Router::TryOffer(const v1::Escalation& current, absl::string_view helper) {
  const absl::Time now = clock_->Now();
  v1::Escalation after =
      WithOffer(current, helper, NewServerId("off"), now, now + config_.offer_timeout);
  EventList events = {{std::string(helper), OfferMadeEvent(after, now)},
                      {current.requester(), EscalationUpdatedEvent(after, now)}};
  return escalations_->Offer(current, after, events);
}

absl::StatusOr<Outcome> Router::TryRoute(const v1::Escalation& current) {
  presence::HelperRequirements req;
  for (const auto& s : current.skills()) req.skills.emplace_back(s.skill(), s.min_proficiency());
  req.language = current.language();
  req.exclude_person = current.requester();
  // Helpers who declined or let an offer of this escalation lapse are never offered it again.
  req.excluded_set_key = escalations_->DeclinedSetKey(current.id());
  BL_ASSIGN_OR_RETURN(std::vector<presence::Candidate> candidates,
                      presence_->SelectCandidates(req, config_.candidates_per_attempt));
  for (const presence::Candidate& c : candidates) {
    BL_ASSIGN_OR_RETURN(Outcome outcome, TryOffer(current, c.id));
    if (outcome != Outcome::kHelperGone) return outcome;
  }
  return Outcome::kHelperGone;
}

absl::Status Router::Route(absl::string_view id) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    if (stored.escalation.state() != v1::ESCALATION_STATE_QUEUED) return absl::OkStatus();
    BL_ASSIGN_OR_RETURN(Outcome outcome, TryRoute(stored.escalation));
    if (outcome == Outcome::kOk) return absl::OkStatus();
    if (outcome == Outcome::kHelperGone) {
      // Nobody (left) to offer it to: it waits in the queue for the next available helper.
      return absl::OkStatus();
    }
  }
  return Contended("route");
}

absl::Status Router::ReleaseAndReroute(const v1::Escalation& e, absl::string_view reason,
                                       bool lapsed) {
  const absl::Time now = clock_->Now();
  const std::string helper = e.offer().helper();
  v1::Escalation after = Requeued(e);
  EventList events = {{helper, OfferClosedEvent(e.offer(), reason, now)},
                      {e.requester(), EscalationUpdatedEvent(after, now)}};
  int missed = 0;
  BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Release(e, after, lapsed, events, &missed));
  if (outcome != Outcome::kOk) return absl::OkStatus();  // someone else moved it first
  if (lapsed && missed >= config_.max_missed_offers) {
    auto st = presence_->SetStatus(helper, v1::PRESENCE_STATUS_BREAK, "missed offers",
                                   /*by_self=*/false);
    if (st.ok()) {
      events_
          ->Append(helper,
                   NoticeEvent("missed_offers",
                               absl::StrCat("You missed ", missed,
                                            " offers in a row and were set on BREAK. Set "
                                            "yourself available when you are back."),
                               now)
                       .SerializeAsString(),
                   absl::ToUnixMillis(now))
          .IgnoreError();
    }
  }
  return Route(e.id());
}

absl::Status Router::HandleTimer(absl::string_view member) {
  std::string id;
  int64_t version = 0;
  if (!ParseOfferTimer(member, &id, &version)) {
    BL_LOG(WARNING) << "dropping unknown timer " << member;
    return timers_->Remove(member);
  }
  auto stored = escalations_->Get(id);
  if (absl::IsNotFound(stored.status())) return timers_->Remove(member);
  if (!stored.ok()) return stored.status();
  const v1::Escalation& e = stored->escalation;
  if (e.version() != version || e.state() != v1::ESCALATION_STATE_OFFERED) {
    return timers_->Remove(member);  // the offer was answered meanwhile
  }
  return ReleaseAndReroute(e, "timeout", /*lapsed=*/true);
}

absl::Status Router::OnHelperAvailable(absl::string_view helper) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                      escalations_->QueuedFor(helper, /*limit=*/8, /*scan=*/500));
  for (const std::string& id : ids) {
    auto stored = escalations_->Get(id);
    if (!stored.ok() || stored->escalation.state() != v1::ESCALATION_STATE_QUEUED) continue;
    if (Declined(stored->escalation, helper)) continue;
    BL_ASSIGN_OR_RETURN(Outcome outcome, TryOffer(stored->escalation, helper));
    if (outcome == Outcome::kHelperGone) break;  // full, or no longer available
  }
  return absl::OkStatus();
}

absl::Status Router::OnHelperUnavailable(absl::string_view helper) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, escalations_->PendingOffersOf(helper));
  for (const std::string& id : ids) {
    auto stored = escalations_->Get(id);
    if (!stored.ok()) continue;
    const v1::Escalation& e = stored->escalation;
    if (e.state() == v1::ESCALATION_STATE_OFFERED && e.offer().helper() == helper) {
      BL_RETURN_IF_ERROR(ReleaseAndReroute(e, "withdrawn", /*lapsed=*/false));
    }
  }
  return absl::OkStatus();
}

absl::Status Router::DrainQueue(int limit) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, escalations_->QueueHead(limit));
  for (const std::string& id : ids) BL_RETURN_IF_ERROR(Route(id));
  return absl::OkStatus();
}

}  // namespace backline::router
