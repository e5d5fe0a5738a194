#include "services/router/router.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/validation.h"
#include "services/router/stats.h"

namespace backline::router {

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
  // The script checks both the stamp of the roster the requester's record was read from and the
  // version of the bot subscriptions the bots were matched against; when either changed, the
  // escalation is made again from fresh reads.
  v1::Escalation e;
  absl::StatusOr<std::string> created;
  // The first ring's ranking, read in the create script's round trip when it can be.
  std::optional<presence::HelperRequirements> first;
  absl::StatusOr<store::RedisReply> ranked = absl::UnavailableError("not read");
  bool roster_changed = false, bots_changed = false;
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    auto requester = Requester(caller.id, roster_changed);
    if (absl::IsNotFound(requester.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("\"", caller.id, "\" is not on the roster, so cannot escalate"));
    }
    if (!requester.ok()) return requester.status();
    const absl::Time now = clock_->Now();
    e = NewEscalation(NewServerId("esc"), requester->person, request, now);
    const GroupPolicy& group = config_.policy.For(e);
    std::vector<RedisEscalationStore::Timer> timers;
    if (group.broadcast_after > absl::ZeroDuration()) {
      timers.push_back({TimerMember("wait", e.id(), 0), now + group.broadcast_after});
    }
    if (group.expire_after > absl::ZeroDuration()) {
      timers.push_back({TimerMember("expire", e.id(), 0), now + group.expire_after});
    }
    // Bots whose subscriptions match are brought into its thread and told.
    BL_ASSIGN_OR_RETURN(auto bots, MatchingBots(e, bots_changed));
    EventList events = {{e.requester(), EscalationUpdatedEvent(e, now)}};
    v1::Event told = EventAt(now);
    *told.mutable_escalation_created()->mutable_escalation() = e;
    for (const std::string& bot : bots.first) events.push_back({bot, told});
    int limit = 0;
    first = FirstRingSelection(e, &limit);
    store::RedisClient::ScriptInvocation select;
    if (first) select = presence_->SelectionInvocation(*first, limit);
    created = escalations_->Create(e, request.request_id(), timers, bots.first, bots.second,
                                   requester->roster_stamp, events, first ? &select : nullptr,
                                   first ? &ranked : nullptr);
    roster_changed = !created.ok() && created.status().message() == kRosterChanged;
    bots_changed = !created.ok() && created.status().message() == kBotsChanged;
    if (!roster_changed && !bots_changed) break;
  }
  BL_ASSIGN_OR_RETURN(std::string id, std::move(created));
  bool waits = false;
  if (id == e.id()) {
    std::optional<absl::StatusOr<std::vector<presence::Candidate>>> first_ring;
    if (first) first_ring = presence::RedisPresenceStore::SelectionResult(ranked, *first);
    auto routed = TryRoute(e, first_ring ? &*first_ring : nullptr);
    waits = routed.ok() && *routed == Outcome::kHelperGone;
    if (!routed.ok()) {
      // Stored and queued: a router picks it up from the queue when Redis is back.
      BL_LOG(WARNING) << "routing " << id << " right after creation failed: " << routed.status();
    }
  }
  BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
  // Those who could take it are told as it is stored now: with its place in the queue.
  if (waits) AnnounceWaiting(stored.escalation, true);
  return std::move(stored.escalation);
}

absl::StatusOr<presence::RedisRosterStore::VersionedPerson> Router::Requester(const std::string& id,
                                                                              bool reload) {
  if (!reload) {
    absl::MutexLock lock(&mu_);
    auto it = requesters_.find(id);
    if (it != requesters_.end()) {
      return presence::RedisRosterStore::VersionedPerson{it->second, requesters_stamp_};
    }
  }
  BL_ASSIGN_OR_RETURN(auto fresh, roster_->GetVersioned(id));
  absl::MutexLock lock(&mu_);
  // Stamps have no order: a read that raced a roster change may put the older roster's stamp
  // back, and then the script refuses its records until a fresh read replaces them again.
  if (fresh.roster_stamp != requesters_stamp_ || requesters_.size() >= kMaxCachedRequesters) {
    requesters_.clear();
    requesters_stamp_ = fresh.roster_stamp;
  }
  requesters_[id] = fresh.person;
  return fresh;
}

absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> Router::MatchingBots(
    const v1::Escalation& e, bool reload) {
  bool load;
  {
    absl::MutexLock lock(&mu_);
    load = reload || !bots_loaded_;
  }
  if (load) {
    BL_ASSIGN_OR_RETURN(RedisEscalationStore::BotSubscriptions fresh,
                        escalations_->LoadBotSubscriptions());
    absl::MutexLock lock(&mu_);
    bots_ = std::move(fresh);
    bots_loaded_ = true;
  }
  auto matches = [&](const v1::BotSubscription& s) {
    const bool skill =
        s.skills().empty() || std::any_of(e.skills().begin(), e.skills().end(), [&](const auto& r) {
          return std::find(s.skills().begin(), s.skills().end(), r.skill()) != s.skills().end();
        });
    const bool language =
        s.languages().empty() ||
        std::any_of(s.languages().begin(), s.languages().end(), [&](const std::string& l) {
          return e.language() == l || absl::StartsWith(e.language(), l + "-");
        });
    const bool team = s.teams().empty() ||
                      std::find(s.teams().begin(), s.teams().end(), e.team()) != s.teams().end();
    return skill && language && team;
  };
  absl::MutexLock lock(&mu_);
  std::pair<std::vector<std::string>, int64_t> out{{}, bots_.version};
  for (const v1::BotSubscription& s : bots_.bots) {
    if (s.bot() != e.requester() && matches(s)) out.first.push_back(s.bot());
  }
  return out;
}

absl::StatusOr<v1::BotSubscription> Router::SubscribeBot(
    const Principal& caller, const v1::SubscribeEscalationsRequest& request) {
  if (caller.role != v1::ROLE_BOT) {
    return absl::PermissionDeniedError("only bots subscribe to new escalations");
  }
  v1::BotSubscription s;
  s.set_bot(caller.id);
  for (int i = 0; i < request.skills_size(); ++i) {
    BL_RETURN_IF_ERROR(CheckName(absl::StrCat("skills[", i, "]"), request.skills(i)));
    s.add_skills(request.skills(i));
  }
  for (int i = 0; i < request.languages_size(); ++i) {
    std::string tag;
    BL_RETURN_IF_ERROR(
        CanonicalLanguage(absl::StrCat("languages[", i, "]"), request.languages(i), &tag));
    s.add_languages(tag);
  }
  for (int i = 0; i < request.teams_size(); ++i) {
    BL_RETURN_IF_ERROR(CheckName(absl::StrCat("teams[", i, "]"), request.teams(i)));
    s.add_teams(request.teams(i));
  }
  if (s.skills_size() > 100 || s.languages_size() > 100 || s.teams_size() > 100) {
    return absl::InvalidArgumentError("at most 100 skills, languages and teams each");
  }
  BL_RETURN_IF_ERROR(escalations_->SetBotSubscription(s));
  return s;
}

absl::Status Router::CheckMayView(const Principal& caller, const v1::Escalation& e) {
  if (caller.id == e.requester() || caller.id == e.helper() || WasOfferedTo(e, caller.id) ||
      caller.role == v1::ROLE_ADMIN) {
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
  FillWaitEstimate(&stored.escalation);
  return std::move(stored.escalation);
}

std::vector<std::string> Router::Audience(const StoredEscalation& stored) {
  if (!stored.thread_members.empty()) return stored.thread_members;
  const v1::Escalation& e = stored.escalation;
  std::vector<std::string> out = {e.requester()};
  if (!e.helper().empty()) out.push_back(e.helper());
  return out;
}

absl::StatusOr<v1::Escalation> Router::Accept(const Principal& caller, absl::string_view id,
                                              absl::string_view offer_id) {
  if (caller.role == v1::ROLE_BOT) return absl::PermissionDeniedError("bots cannot accept offers");
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    const v1::Offer* mine = PendingOfferTo(e, caller.id);
    if (mine == nullptr) {
      if (caller.id == e.helper()) {
        return absl::FailedPreconditionError(
            absl::StrCat("escalation ", id, " is already accepted by you"));
      }
      if (WasOfferedTo(e, caller.id)) {
        return absl::FailedPreconditionError(
            absl::StrCat("your offer of escalation ", id, " is no longer pending"));
      }
      if (caller.id == e.requester()) {
        return absl::PermissionDeniedError("you cannot accept your own escalation");
      }
      return absl::PermissionDeniedError(absl::StrCat("escalation ", id, " is not offered to you"));
    }
    if (!offer_id.empty() && offer_id != mine->offer_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("offer ", offer_id, " is no longer pending"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = WithAccept(e, caller.id, now);
    v1::Message hello = SystemMessage(after.thread_id(), stored.thread_last_seq + 1,
                                      absl::StrCat(caller.id, " accepted the escalation"), now);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    const v1::Event posted = MessagePostedEvent(hello, now);
    EventList events = {{e.requester(), updated}, {caller.id, updated}};
    // Offered to several at once: the others' offers are gone.
    for (const v1::Offer& other : e.offers()) {
      if (other.helper() != caller.id) {
        events.push_back({other.helper(), OfferClosedEvent(other, "taken", now)});
      }
    }
    std::vector<std::string> audience = Audience(stored);
    if (std::find(audience.begin(), audience.end(), caller.id) == audience.end()) {
      audience.push_back(caller.id);
    }
    for (const std::string& p : audience) events.push_back({p, posted});
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Accept(e, after, hello, events));
    if (outcome == Outcome::kOk) return after;
    if (outcome == Outcome::kLapsed) {
      return absl::FailedPreconditionError(
          absl::StrCat("your offer of escalation ", id, " has lapsed"));
    }
  }
  return ContendedError("accept");
}

absl::StatusOr<v1::Escalation> Router::Decline(const Principal& caller, absl::string_view id,
                                               absl::string_view offer_id,
                                               absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    const v1::Offer* mine = PendingOfferTo(e, caller.id);
    if (mine == nullptr) {
      if (WasOfferedTo(e, caller.id) || caller.id == e.helper()) {
        return absl::FailedPreconditionError(
            absl::StrCat("your offer of escalation ", id, " is no longer pending"));
      }
      return absl::PermissionDeniedError(absl::StrCat("escalation ", id, " is not offered to you"));
    }
    if (!offer_id.empty() && offer_id != mine->offer_id()) {
      return absl::FailedPreconditionError(
          absl::StrCat("offer ", offer_id, " is no longer pending"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = WithoutOffers(e, {caller.id});
    EventList events = {{caller.id, OfferClosedEvent(*mine, "declined", now)},
                        {e.requester(), EscalationUpdatedEvent(after, now)}};
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Release(e, after, {caller.id},
                                                               /*lapsed=*/false, events, nullptr));
    if (outcome == Outcome::kOk) {
      // Still offered to others, or back in the queue: then routed again at once.
      absl::Status routed =
          after.state() == v1::ESCALATION_STATE_QUEUED ? Route(id) : absl::OkStatus();
      if (!routed.ok()) BL_LOG(WARNING) << "re-routing " << id << ": " << routed;
      BL_ASSIGN_OR_RETURN(StoredEscalation now_stored, escalations_->Get(id));
      return std::move(now_stored.escalation);
    }
  }
  return ContendedError("decline");
}

absl::StatusOr<v1::Escalation> Router::Cancel(const Principal& caller, absl::string_view id,
                                              absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
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
      for (const v1::Offer& o : e.offers()) {
        events.push_back({o.helper(), OfferClosedEvent(o, "cancelled", now)});
      }
    } else if (e.state() == v1::ESCALATION_STATE_ACCEPTED) {
      bye = SystemMessage(
          e.thread_id(), stored.thread_last_seq + 1,
          absl::StrCat(caller.id, " cancelled the escalation", reason.empty() ? "" : ": ", reason),
          now);
      events.push_back({e.helper(), EscalationUpdatedEvent(after, now)});
      for (const std::string& p : Audience(stored)) {
        events.push_back({p, MessagePostedEvent(*bye, now)});
      }
    }
    BL_ASSIGN_OR_RETURN(Outcome outcome,
                        escalations_->Close(e, after, bye ? &*bye : nullptr, events));
    if (outcome == Outcome::kOk) {
      if (e.state() == v1::ESCALATION_STATE_QUEUED) AnnounceWaiting(e, false);
      return after;
    }
  }
  return ContendedError("cancel");
}

absl::StatusOr<v1::Escalation> Router::Resolve(const Principal& caller, absl::string_view id,
                                               absl::string_view resolution) {
  BL_RETURN_IF_ERROR(CheckText("resolution", resolution, 0, kMaxQuestionBytes));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
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
    EventList events = {{e.requester(), updated}, {e.helper(), updated}};
    for (const std::string& p : Audience(stored)) events.push_back({p, posted});
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Close(e, after, &bye, events));
    if (outcome == Outcome::kOk) return after;
  }
  return ContendedError("resolve");
}

absl::StatusOr<v1::Escalation> Router::Reopen(const Principal& caller, absl::string_view id,
                                              absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (caller.id != e.requester() && caller.id != e.helper()) {
      BL_RETURN_IF_ERROR(CheckMayView(caller, e));
      return absl::PermissionDeniedError("only the requester or the helper may reopen it");
    }
    if (e.state() != v1::ESCALATION_STATE_RESOLVED) {
      return absl::FailedPreconditionError(
          absl::StrCat("escalation ", id, " is ", v1::EscalationState_Name(e.state()),
                       "; only a resolved escalation can be reopened"));
    }
    // Back to the same helper only if they can take it now.
    auto helper = presence_->Get(e.helper());
    const bool back = helper.ok() && helper->status() == v1::PRESENCE_STATUS_AVAILABLE &&
                      helper->load() < helper->capacity();
    const absl::Time now = clock_->Now();
    v1::Escalation after = e;
    after.set_version(e.version() + 1);
    after.clear_close_reason();
    after.mutable_timeline()->clear_resolve_time();
    *after.mutable_timeline()->mutable_reopen_time() = ToProtoTime(now);
    if (back) {
      after.set_state(v1::ESCALATION_STATE_ACCEPTED);
    } else {
      after.set_state(v1::ESCALATION_STATE_QUEUED);
      after.clear_helper();
    }
    v1::Message note = SystemMessage(
        e.thread_id(), stored.thread_last_seq + 1,
        absl::StrCat(caller.id, " reopened the escalation", reason.empty() ? "" : ": ", reason,
                     back ? ""
                          : absl::StrCat(" (", e.helper(),
                                         " is not available; finding "
                                         "someone else)")),
        now);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    EventList events = {{e.requester(), updated}, {e.helper(), updated}};
    for (const std::string& p : Audience(stored))
      events.push_back({p, MessagePostedEvent(note, now)});
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Reopen(e, after, back, note, events));
    if (outcome != Outcome::kOk) continue;
    if (!back) BL_RETURN_IF_ERROR(Route(id));
    BL_ASSIGN_OR_RETURN(StoredEscalation now_stored, escalations_->Get(id));
    return std::move(now_stored.escalation);
  }
  return ContendedError("reopen");
}

absl::StatusOr<v1::Escalation> Router::Transfer(const Principal& caller, absl::string_view id,
                                                const v1::TransferEscalationRequest& request) {
  BL_RETURN_IF_ERROR(CheckText("reason", request.reason(), 0, 200));
  google::protobuf::RepeatedPtrField<v1::SkillRequirement> skills = request.skills();
  BL_RETURN_IF_ERROR(ValidateSkills(&skills));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (caller.id != e.helper()) {
      BL_RETURN_IF_ERROR(CheckMayView(caller, e));
      return absl::PermissionDeniedError("only its helper may transfer an escalation");
    }
    if (e.state() != v1::ESCALATION_STATE_ACCEPTED) {
      return absl::FailedPreconditionError(
          absl::StrCat("escalation ", id, " is ", v1::EscalationState_Name(e.state()),
                       "; only an accepted escalation can be transferred"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = e;
    after.set_version(e.version() + 1);
    after.set_state(v1::ESCALATION_STATE_QUEUED);
    after.clear_helper();
    *after.mutable_skills() = skills;
    if (!HasDeclined(e, caller.id)) after.add_declined_by(caller.id);
    std::vector<std::string> names;
    for (const auto& s : skills)
      names.push_back(absl::StrCat(s.skill(), ">=", s.min_proficiency()));
    v1::Message note = SystemMessage(
        e.thread_id(), stored.thread_last_seq + 1,
        absl::StrCat(caller.id, " handed the escalation on, needing ", absl::StrJoin(names, ", "),
                     request.reason().empty() ? "" : ": ", request.reason()),
        now);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    EventList events = {{e.requester(), updated}, {caller.id, updated}};
    for (const std::string& p : Audience(stored))
      events.push_back({p, MessagePostedEvent(note, now)});
    auto outcome = escalations_->Transfer(e, after, note, events);
    if (!outcome.ok()) return outcome.status();
    if (*outcome != Outcome::kOk) continue;
    BL_RETURN_IF_ERROR(Route(id));
    BL_ASSIGN_OR_RETURN(StoredEscalation now_stored, escalations_->Get(id));
    return std::move(now_stored.escalation);
  }
  return ContendedError("transfer");
}

absl::StatusOr<v1::Escalation> Router::Invite(const Principal& caller, absl::string_view id,
                                              absl::string_view expert) {
  BL_RETURN_IF_ERROR(CheckName("expert", expert));
  BL_ASSIGN_OR_RETURN(v1::Person who, roster_->Get(expert));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (caller.id != e.helper() && caller.id != e.requester()) {
      BL_RETURN_IF_ERROR(CheckMayView(caller, e));
      return absl::PermissionDeniedError("only the helper or the requester may invite");
    }
    if (e.state() != v1::ESCALATION_STATE_ACCEPTED) {
      return absl::FailedPreconditionError(absl::StrCat("escalation ", id, " is ",
                                                        v1::EscalationState_Name(e.state()),
                                                        "; experts join accepted escalations"));
    }
    const absl::Time now = clock_->Now();
    v1::Escalation after = e;
    after.set_version(e.version() + 1);
    after.add_experts(who.id());
    v1::Message note = SystemMessage(e.thread_id(), stored.thread_last_seq + 1,
                                     absl::StrCat(caller.id, " invited ", who.id()), now);
    std::vector<std::string> audience = Audience(stored);
    audience.push_back(who.id());
    v1::Event thread_changed = EventAt(now);
    v1::Thread* t = thread_changed.mutable_thread_changed()->mutable_thread();
    t->set_id(e.thread_id());
    t->set_kind(v1::THREAD_KIND_ESCALATION);
    t->set_escalation_id(e.id());
    t->set_site(e.site());
    t->set_last_seq(note.seq());
    std::vector<std::string> sorted = audience;
    std::sort(sorted.begin(), sorted.end());
    for (const std::string& p : sorted) t->add_participants(p);
    const v1::Event updated = EscalationUpdatedEvent(after, now);
    EventList events = {{e.requester(), updated}, {e.helper(), updated}, {who.id(), updated}};
    for (const std::string& p : audience) {
      events.push_back({p, thread_changed});
      events.push_back({p, MessagePostedEvent(note, now)});
    }
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Invite(e, who.id(), note, events));
    if (outcome == Outcome::kAlready) {
      return absl::AlreadyExistsError(absl::StrCat(who.id(), " is in the thread already"));
    }
    if (outcome == Outcome::kOk) return after;
  }
  return ContendedError("invite");
}

absl::StatusOr<v1::ListWaitingResponse> Router::ListWaiting(const Principal& caller, int limit) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                      escalations_->QueuedFor(caller.id, limit, /*scan=*/500));
  BL_ASSIGN_OR_RETURN(auto stored, escalations_->GetMany(ids));
  // "Best match": the caller is among the three best helpers for it, the requester aside.
  // Escalations that need the same skills and language share one ranking (the four best, of
  // whom the requester is skipped when there), and all rankings go in one round trip.
  constexpr int kBest = 3;
  std::vector<const v1::Escalation*> waiting;
  std::vector<size_t> ranking_of;
  std::map<std::string, size_t> ranking_by_needs;
  std::vector<presence::HelperRequirements> needs;
  for (const auto& one : stored) {
    if (!one.ok() || one->escalation.state() != v1::ESCALATION_STATE_QUEUED) continue;
    const v1::Escalation& e = one->escalation;
    presence::HelperRequirements req;
    std::string key = e.language();
    for (const auto& s : e.skills()) {
      req.skills.emplace_back(s.skill(), s.min_proficiency());
      absl::StrAppend(&key, "|", s.skill(), ":", s.min_proficiency());
    }
    req.language = e.language();
    auto [it, added] = ranking_by_needs.emplace(key, needs.size());
    if (added) needs.push_back(std::move(req));
    waiting.push_back(&e);
    ranking_of.push_back(it->second);
  }
  BL_ASSIGN_OR_RETURN(auto rankings, presence_->SelectCandidatesMany(needs, kBest + 1));
  v1::ListWaitingResponse out;
  for (size_t i = 0; i < waiting.size(); ++i) {
    const v1::Escalation& e = *waiting[i];
    const auto& ranking = rankings[ranking_of[i]];
    bool best = false;
    if (ranking.ok()) {
      int seen = 0;
      for (const presence::Candidate& c : *ranking) {
        if (c.id == e.requester()) continue;
        if (++seen > kBest) break;
        if (c.id == caller.id) best = true;
      }
    }
    v1::WaitingEscalation* w = out.add_escalations();
    *w->mutable_escalation() = e;
    FillWaitEstimate(w->mutable_escalation());
    w->set_best_match(best);
  }
  return out;
}

absl::StatusOr<v1::Escalation> Router::Take(const Principal& caller, absl::string_view id) {
  if (caller.role == v1::ROLE_BOT)
    return absl::PermissionDeniedError("bots cannot take escalations");
  BL_ASSIGN_OR_RETURN(v1::Person me, roster_->Get(caller.id));
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    const v1::Escalation& e = stored.escalation;
    if (e.state() != v1::ESCALATION_STATE_QUEUED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "escalation ", id, " is no longer waiting (", v1::EscalationState_Name(e.state()), ")"));
    }
    if (caller.id == e.requester()) {
      return absl::PermissionDeniedError("you cannot take your own escalation");
    }
    for (const auto& need : e.skills()) {
      const bool has = std::any_of(me.skills().begin(), me.skills().end(), [&](const v1::Skill& s) {
        return s.name() == need.skill() && s.proficiency() >= need.min_proficiency();
      });
      if (!has) {
        return absl::PermissionDeniedError(
            absl::StrCat("it needs ", need.skill(), " >= ", need.min_proficiency()));
      }
    }
    const bool speaks =
        std::any_of(me.languages().begin(), me.languages().end(), [&](const std::string& l) {
          return l == e.language() || absl::StartsWith(l, e.language() + "-");
        });
    if (!speaks) return absl::PermissionDeniedError(absl::StrCat("it needs ", e.language()));
    presence::Candidate me_as_helper;
    me_as_helper.id = caller.id;
    BL_ASSIGN_OR_RETURN(Outcome outcome, TryOffer(e, {me_as_helper}, nullptr));
    if (outcome == Outcome::kHelperGone) {
      return absl::FailedPreconditionError(
          "you can take it only while available, below capacity, and not having declined it");
    }
    if (outcome == Outcome::kOk) return Accept(caller, id, "");
  }
  return ContendedError("take");
}

absl::StatusOr<v1::Stats> Router::Stats(const Principal& caller,
                                        const v1::GetStatsRequest& request) {
  std::string site = request.site();
  if (caller.role != v1::ROLE_ADMIN) {
    if (caller.role != v1::ROLE_SUPERVISOR && caller.role != v1::ROLE_TEAM_LEADER) {
      return absl::PermissionDeniedError("service-level figures are for supervisors");
    }
    BL_ASSIGN_OR_RETURN(v1::Person me, roster_->Get(caller.id));
    if (!site.empty() && site != me.site()) {
      return absl::PermissionDeniedError(absl::StrCat("site ", site, " is not yours"));
    }
    site = me.site();
  }
  absl::Duration window = absl::Hours(1);
  if (request.has_window()) {
    window = absl::Seconds(request.window().seconds());
    if (window <= absl::ZeroDuration() || window > absl::Hours(24 * 31)) {
      return absl::InvalidArgumentError("window: must be within 1 s .. 31 days");
    }
  }
  const absl::Time to = clock_->Now();
  StatsBuilder builder(to - window, to, site);
  BL_RETURN_IF_ERROR(escalations_->ForEachCreatedSince(to - window, [&](const v1::Escalation& e) {
    builder.Add(e);
    return true;
  }));
  v1::Stats stats = builder.Finish();
  BL_ASSIGN_OR_RETURN(std::vector<v1::KnowledgeStats> knowledge,
                      escalations_->KnowledgeStats(to - window, to, site));
  for (v1::KnowledgeStats& k : knowledge) *stats.add_knowledge() = std::move(k);
  return stats;
}

absl::StatusOr<v1::ListEscalationsResponse> Router::List(const Principal& caller,
                                                         v1::EscalationScope scope, int limit) {
  std::vector<v1::Escalation> found;
  // Reads escalations by id, keeping those `keep` accepts; ids that vanished are skipped.
  auto collect = [&](const std::vector<std::string>& ids, auto keep) -> absl::Status {
    for (const std::string& id : ids) {
      auto stored = escalations_->Get(id);
      if (absl::IsNotFound(stored.status())) continue;
      if (!stored.ok()) return stored.status();
      if (keep(stored->escalation)) found.push_back(std::move(stored->escalation));
    }
    return absl::OkStatus();
  };
  switch (scope) {
    case v1::ESCALATION_SCOPE_OFFERED: {
      BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, escalations_->PendingOffersOf(caller.id));
      BL_RETURN_IF_ERROR(collect(ids, [&](const v1::Escalation& e) {
        return e.state() == v1::ESCALATION_STATE_OFFERED &&
               PendingOfferTo(e, caller.id) != nullptr;
      }));
      std::sort(found.begin(), found.end(), [&](const v1::Escalation& a, const v1::Escalation& b) {
        const auto da = PendingOfferTo(a, caller.id)->deadline();
        const auto db = PendingOfferTo(b, caller.id)->deadline();
        return std::make_pair(da.seconds(), da.nanos()) < std::make_pair(db.seconds(), db.nanos());
      });
      break;
    }
    case v1::ESCALATION_SCOPE_OPEN: {
      BL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                          escalations_->EscalationsInThreadsOf(caller.id, /*scan=*/200));
      // Newest first: the escalation ids come in order of thread activity.
      BL_RETURN_IF_ERROR(collect(ids, [](const v1::Escalation& e) { return !IsFinal(e.state()); }));
      std::stable_sort(found.begin(), found.end(), [](const v1::Escalation& a,
                                                      const v1::Escalation& b) {
        const auto& ta = a.timeline().create_time();
        const auto& tb = b.timeline().create_time();
        return std::make_pair(ta.seconds(), ta.nanos()) > std::make_pair(tb.seconds(), tb.nanos());
      });
      break;
    }
    case v1::ESCALATION_SCOPE_SITE: {
      std::string site, team;
      if (caller.role != v1::ROLE_ADMIN) {
        if (caller.role != v1::ROLE_SUPERVISOR && caller.role != v1::ROLE_TEAM_LEADER) {
          return absl::PermissionDeniedError(
              "scope: the site's escalations are for supervisors and team leaders");
        }
        BL_ASSIGN_OR_RETURN(v1::Person me, roster_->Get(caller.id));
        site = me.site();
        if (caller.role == v1::ROLE_TEAM_LEADER) team = me.team();
      }
      std::vector<std::string> ids;
      BL_RETURN_IF_ERROR(escalations_->ForEachCreatedSince(
          clock_->Now() - absl::Hours(24), [&](const v1::Escalation& e) {
            if (IsFinal(e.state()) || (!site.empty() && e.site() != site) ||
                (!team.empty() && e.team() != team)) {
              return true;
            }
            ids.push_back(e.id());
            return static_cast<int>(ids.size()) < limit;
          }));
      // Read again in full (queue position, offers): the listing above is without them.
      BL_RETURN_IF_ERROR(collect(ids, [](const v1::Escalation& e) { return !IsFinal(e.state()); }));
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "scope: must be ESCALATION_SCOPE_OFFERED, ESCALATION_SCOPE_OPEN or ESCALATION_SCOPE_SITE");
  }
  v1::ListEscalationsResponse out;
  for (v1::Escalation& e : found) {
    if (out.escalations_size() == limit) break;
    FillWaitEstimate(&e);
    *out.add_escalations() = std::move(e);
  }
  return out;
}

}  // namespace backline::router
