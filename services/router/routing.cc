// The routing half of the Router: rings, offers, timers, the queue and the "looking for help"
// lists, and explaining a decision. Everything here is idempotent and safe to run on several
// router instances at once.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/validation.h"
#include "services/router/router.h"

namespace backline::router {
namespace {

// Candidates tried per ring before the ranking is recomputed.
constexpr int kCandidatesPerRing = 3;
// Ring membership is looked at up to this many people; bigger rings count as not empty.
constexpr size_t kMaxRingMembers = 500;
// Helpers told about a waiting escalation, best qualified first; the first few are marked as
// the best matches.
constexpr int kWaitingAudience = 50;
constexpr int kBestMatches = 3;
// A waiting timer that finds the escalation offered looks again this much later.
constexpr absl::Duration kRecheck = absl::Seconds(10);

std::vector<v1::Role> RingRoles(const Ring& ring) {
  if (!ring.roles.empty()) return ring.roles;
  return {v1::ROLE_SENIOR, v1::ROLE_TEAM_LEADER, v1::ROLE_SUPERVISOR};
}

using Ranking = presence::HelperRequirements::Ranking;

Ranking RankingOf(GroupPolicy::Order order) {
  switch (order) {
    case GroupPolicy::Order::kLongestIdle:
      return Ranking::kLongestIdle;
    case GroupPolicy::Order::kLeastLoaded:
      return Ranking::kLeastLoaded;
    case GroupPolicy::Order::kRoundRobin:
      return Ranking::kRoundRobin;
    case GroupPolicy::Order::kProficiency:
      break;
  }
  return Ranking::kProficiency;
}

// Best first, in the ranking's terms (round robin is ranked by Redis alone).
bool Better(const presence::Candidate& a, const presence::Candidate& b, Ranking ranking) {
  if (ranking == Ranking::kProficiency && a.proficiency != b.proficiency) {
    return a.proficiency > b.proficiency;
  }
  if (ranking == Ranking::kLeastLoaded && a.load != b.load) return a.load < b.load;
  if (a.idle_since_ms != b.idle_since_ms) return a.idle_since_ms < b.idle_since_ms;
  return a.id < b.id;
}

// The best `limit` of `pool`, in the ranking's terms.
std::vector<presence::Candidate> Best(std::vector<presence::Candidate> pool, Ranking ranking,
                                      int limit) {
  if (ranking != Ranking::kRoundRobin) {
    std::sort(pool.begin(), pool.end(),
              [&](const auto& a, const auto& b) { return Better(a, b, ranking); });
  }
  if (static_cast<int>(pool.size()) > limit) pool.resize(limit);
  return pool;
}

// The ring's people in one pool (offerable, or on call), best first: the mentor (when the ring
// has them) merged into the ring's own ranking.
absl::StatusOr<std::vector<presence::Candidate>> SelectInPool(
    presence::RedisPresenceStore& presence, const presence::HelperRequirements& req,
    const std::string& mentor, int limit) {
  std::vector<presence::Candidate> out;
  if (!mentor.empty()) {
    presence::HelperRequirements only = req;
    only.only_person = mentor;
    only.role_keys.clear();
    only.scope_key.clear();
    BL_ASSIGN_OR_RETURN(out, presence.SelectCandidates(only, 1));
  }
  BL_ASSIGN_OR_RETURN(std::vector<presence::Candidate> rest, presence.SelectCandidates(req, limit));
  for (presence::Candidate& c : rest) {
    if (out.empty() || c.id != out.front().id) out.push_back(std::move(c));
  }
  return Best(std::move(out), req.ranking, limit);
}

// Candidates asked of each ring: a few more than are offered at once, so that one who is gone
// meanwhile makes way for the next without another ranking.
int RingLimit(const GroupPolicy& group) {
  return kCandidatesPerRing + std::max(1, group.parallel_offers) - 1;
}

}  // namespace

absl::StatusOr<Outcome> Router::TryOffer(const v1::Escalation& current,
                                         const std::vector<presence::Candidate>& helpers,
                                         std::string* gone) {
  const absl::Time now = clock_->Now();
  std::vector<std::pair<std::string, std::string>> offers;
  OfferOptions options;
  for (const presence::Candidate& h : helpers) {
    offers.emplace_back(h.id, NewServerId("off"));
    if (h.on_call) options.on_call.insert(h.id);
  }
  v1::Escalation after = WithOffers(current, offers, now, now + config_.offer_timeout);
  EventList events;
  for (const presence::Candidate& h : helpers) {
    events.push_back({h.id, OfferMadeEvent(after, h.id, now)});
  }
  events.push_back({current.requester(), EscalationUpdatedEvent(after, now)});
  const GroupPolicy& group = config_.policy.For(current);
  if (group.order == GroupPolicy::Order::kRoundRobin) {
    options.round_robin_key = escalations_->keys().RoundRobin(group.name);
  }
  // The offer script also takes it off the "looking for help" lists' record, so only the
  // escalations that were on them cost the round trips of telling their audience.
  bool was_announced = false;
  BL_ASSIGN_OR_RETURN(Outcome outcome,
                      escalations_->Offer(current, after, events, options, gone, &was_announced));
  if (outcome == Outcome::kOk && was_announced) TellWaiting(current, false);
  if (outcome == Outcome::kOk && !current.timeline().has_first_offer_time()) {
    NoteFirstOffer(current, now);
  }
  return outcome;
}

std::string Router::MentorOf(const v1::Escalation& e, const GroupPolicy& group) {
  const bool any =
      std::any_of(group.rings.begin(), group.rings.end(), [](const Ring& r) { return r.mentor; });
  if (!any) return "";
  auto requester = roster_->Get(e.requester());
  return requester.ok() ? requester->mentor() : "";
}

presence::HelperRequirements Router::RingRequirements(const v1::Escalation& e, const Ring& ring,
                                                      const GroupPolicy& group) const {
  const store::Keys& keys = escalations_->keys();
  presence::HelperRequirements req;
  for (const auto& s : e.skills()) {
    req.skills.emplace_back(s.skill(), std::max(s.min_proficiency(), ring.min_proficiency));
  }
  req.language = e.language();
  req.exclude_person = e.requester();
  // Helpers who declined or let an offer of this escalation lapse are never offered it again.
  req.excluded_set_key = keys.EscalationDeclined(e.id());
  req.ranking = RankingOf(group.order);
  if (req.ranking == Ranking::kRoundRobin) req.round_robin_key = keys.RoundRobin(group.name);
  for (v1::Role role : RingRoles(ring)) req.role_keys.push_back(keys.RoleIndex(RoleName(role)));
  if (ring.scope == Ring::Scope::kTeam) req.scope_key = keys.TeamIndex(e.team());
  if (ring.scope == Ring::Scope::kSite) req.scope_key = keys.SiteIndex(e.site());
  return req;
}

std::optional<presence::HelperRequirements> Router::FirstRingSelection(const v1::Escalation& e,
                                                                       int* limit) const {
  const GroupPolicy& group = config_.policy.For(e);
  if (group.rings.empty() || group.rings[0].mentor || e.skills().empty()) return std::nullopt;
  *limit = RingLimit(group);
  return RingRequirements(e, group.rings[0], group);
}

absl::StatusOr<std::vector<presence::Candidate>> Router::RingCandidates(
    const v1::Escalation& e, const Ring& ring, const GroupPolicy& group, const std::string& mentor,
    int limit, const absl::StatusOr<std::vector<presence::Candidate>>* ranked) {
  presence::HelperRequirements req = RingRequirements(e, ring, group);
  const std::string& ring_mentor = ring.mentor ? mentor : std::string();
  std::vector<presence::Candidate> out;
  if (ranked != nullptr) {
    BL_ASSIGN_OR_RETURN(out, *ranked);
    out = Best(std::move(out), req.ranking, limit);
  } else {
    BL_ASSIGN_OR_RETURN(out, SelectInPool(*presence_, req, ring_mentor, limit));
  }
  // URGENT work may go to helpers on a customer call, by policy — after every available one.
  if (group.on_call_takes_urgent && e.priority() == v1::PRIORITY_URGENT &&
      static_cast<int>(out.size()) < limit) {
    req.on_call_pool = true;
    BL_ASSIGN_OR_RETURN(
        std::vector<presence::Candidate> on_call,
        SelectInPool(*presence_, req, ring_mentor, limit - static_cast<int>(out.size())));
    out.insert(out.end(), on_call.begin(), on_call.end());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Router::RingMembers(const v1::Escalation& e,
                                                             const Ring& ring,
                                                             const std::string& mentor) {
  const store::Keys& keys = escalations_->keys();
  std::vector<std::string> sets;
  for (v1::Role role : RingRoles(ring)) sets.push_back(keys.RoleIndex(RoleName(role)));
  if (ring.scope == Ring::Scope::kTeam) sets.push_back(keys.TeamIndex(e.team()));
  if (ring.scope == Ring::Scope::kSite) sets.push_back(keys.SiteIndex(e.site()));
  BL_ASSIGN_OR_RETURN(auto members, escalations_->SetsMembers(sets));
  const size_t roles = RingRoles(ring).size();
  std::set<std::string> with_role;
  for (size_t i = 0; i < roles; ++i) with_role.insert(members[i].begin(), members[i].end());
  std::vector<std::string> out;
  if (ring.scope == Ring::Scope::kAnyone) {
    out.assign(with_role.begin(), with_role.end());
  } else {
    for (const std::string& p : members.back()) {
      if (with_role.count(p)) out.push_back(p);
    }
  }
  if (ring.mentor && !mentor.empty()) out.push_back(mentor);
  out.erase(std::remove(out.begin(), out.end(), e.requester()), out.end());
  return out;
}

absl::StatusOr<bool> Router::AnyoneLoggedIn(const v1::Escalation& e, const Ring& ring,
                                            const std::string& mentor) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> members, RingMembers(e, ring, mentor));
  if (members.size() > kMaxRingMembers) return true;
  BL_ASSIGN_OR_RETURN(std::vector<v1::Presence> presences, presence_->GetMany(members));
  return std::any_of(presences.begin(), presences.end(), [](const v1::Presence& p) {
    return p.status() != v1::PRESENCE_STATUS_OFFLINE;
  });
}

absl::StatusOr<Outcome> Router::TryRoute(
    const v1::Escalation& current,
    const absl::StatusOr<std::vector<presence::Candidate>>* first_ring) {
  const GroupPolicy& group = config_.policy.For(current);
  const absl::Time created = FromProtoTime(current.timeline().create_time());
  const absl::Duration age = clock_->Now() - created;
  const std::string mentor = MentorOf(current, group);
  for (size_t i = 0; i < group.rings.size(); ++i) {
    const Ring& ring = group.rings[i];
    if (i > 0 && age < ring.open_after) {
      // Not open by time yet — unless nobody of the ring before it is logged in.
      BL_ASSIGN_OR_RETURN(bool previous_staffed,
                          AnyoneLoggedIn(current, group.rings[i - 1], mentor));
      if (previous_staffed) {
        BL_RETURN_IF_ERROR(
            timers_->Schedule(TimerMember("ring", current.id(), i), created + ring.open_after));
        return Outcome::kHelperGone;
      }
    }
    const size_t at_once = static_cast<size_t>(std::max(1, group.parallel_offers));
    BL_ASSIGN_OR_RETURN(std::vector<presence::Candidate> candidates,
                        RingCandidates(current, ring, group, mentor, RingLimit(group),
                                       i == 0 ? first_ring : nullptr));
    // Offered to the best `at_once` together; one who is gone meanwhile makes way for the next.
    while (!candidates.empty()) {
      std::vector<presence::Candidate> batch(
          candidates.begin(), candidates.begin() + std::min(at_once, candidates.size()));
      std::string gone;
      BL_ASSIGN_OR_RETURN(Outcome outcome, TryOffer(current, batch, &gone));
      if (outcome != Outcome::kHelperGone) return outcome;
      auto it = std::find_if(candidates.begin(), candidates.end(),
                             [&](const presence::Candidate& c) { return c.id == gone; });
      if (it == candidates.end()) break;
      candidates.erase(it);
    }
  }
  return Outcome::kHelperGone;
}

absl::Status Router::Route(absl::string_view id) {
  for (int attempt = 0; attempt < kMaxTransitionAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
    if (stored.escalation.state() != v1::ESCALATION_STATE_QUEUED) return absl::OkStatus();
    BL_ASSIGN_OR_RETURN(Outcome outcome, TryRoute(stored.escalation));
    if (outcome == Outcome::kOk) return absl::OkStatus();
    if (outcome == Outcome::kHelperGone) {
      // Nobody (left) to offer it to: it waits in the queue for the next available helper.
      AnnounceWaiting(stored.escalation, true);
      return absl::OkStatus();
    }
  }
  return ContendedError("route");
}

void Router::AnnounceWaiting(const v1::Escalation& e, bool waiting) {
  auto changed = escalations_->MarkAnnounced(e.id(), waiting);
  if (!changed.ok() || !*changed) return;  // told before (or never told: nothing to take back)
  TellWaiting(e, waiting);
}

void Router::TellWaiting(const v1::Escalation& e, bool waiting) {
  presence::HelperRequirements req;
  for (const auto& s : e.skills()) req.skills.emplace_back(s.skill(), s.min_proficiency());
  req.language = e.language();
  req.exclude_person = e.requester();
  auto audience = presence_->SelectCandidates(req, kWaitingAudience);
  if (!audience.ok() || audience->empty()) return;
  const absl::Time now = clock_->Now();
  std::vector<std::pair<std::string, std::string>> events;
  for (size_t i = 0; i < audience->size(); ++i) {
    v1::Event ev = EventAt(now);
    v1::WaitingChanged* w = ev.mutable_waiting_changed();
    *w->mutable_escalation() = e;
    w->set_waiting(waiting);
    w->set_best_match(static_cast<int>(i) < kBestMatches);
    events.emplace_back((*audience)[i].id, ev.SerializeAsString());
  }
  // All of them in one round trip: this runs in the call that made the escalation wait.
  events_->AppendMany(std::move(events), absl::ToUnixMillis(now)).IgnoreError();
}

absl::Status Router::ReleaseOffers(const v1::Escalation& e, const std::vector<std::string>& helpers,
                                   absl::string_view reason, bool lapsed) {
  const absl::Time now = clock_->Now();
  v1::Escalation after = WithoutOffers(e, helpers);
  EventList events;
  for (const std::string& helper : helpers) {
    const v1::Offer* offer = PendingOfferTo(e, helper);
    if (offer != nullptr) events.push_back({helper, OfferClosedEvent(*offer, reason, now)});
  }
  events.push_back({e.requester(), EscalationUpdatedEvent(after, now)});
  std::vector<int> missed;
  BL_ASSIGN_OR_RETURN(Outcome outcome,
                      escalations_->Release(e, after, helpers, lapsed, events, &missed));
  if (outcome != Outcome::kOk) return absl::OkStatus();  // someone else moved it first
  for (size_t i = 0; lapsed && i < helpers.size() && i < missed.size(); ++i) {
    if (missed[i] < config_.max_missed_offers) continue;
    auto st = presence_->SetStatus(helpers[i], v1::PRESENCE_STATUS_BREAK, "missed offers",
                                   /*by_self=*/false);
    if (st.ok()) {
      events_
          ->Append(helpers[i],
                   NoticeEvent("missed_offers",
                               absl::StrCat("You missed ", missed[i],
                                            " offers in a row and were set on BREAK. Set "
                                            "yourself available when you are back."),
                               now)
                       .SerializeAsString(),
                   absl::ToUnixMillis(now))
          .IgnoreError();
    }
  }
  // Still offered to others: they may yet accept it.
  if (after.state() != v1::ESCALATION_STATE_QUEUED) return absl::OkStatus();
  return Route(e.id());
}

absl::Status Router::HandleWaitedTooLong(const v1::Escalation& e) {
  const absl::Time now = clock_->Now();
  // The site's supervisors see it on their "looking for help" list and get a notice; the
  // requester is told.
  v1::ListPeopleRequest q;
  q.set_site(e.site());
  q.set_role(v1::ROLE_SUPERVISOR);
  q.set_page_size(1000);
  BL_ASSIGN_OR_RETURN(v1::ListPeopleResponse supervisors, roster_->List(q));
  const std::string text = absl::StrCat(
      "Escalation ", e.id(), " from ", e.requester(), " has waited ",
      absl::FormatDuration(
          absl::Seconds(absl::ToInt64Seconds(now - FromProtoTime(e.timeline().create_time())))),
      " without a helper: ", e.question());
  EventList events;
  for (const v1::Person& s : supervisors.people()) {
    events.push_back({s.id(), NoticeEvent("waiting_too_long", text, now)});
    v1::Event ev = EventAt(now);
    *ev.mutable_waiting_changed()->mutable_escalation() = e;
    ev.mutable_waiting_changed()->set_waiting(true);
    events.push_back({s.id(), ev});
  }
  events.push_back(
      {e.requester(), NoticeEvent("waiting_too_long",
                                  absl::StrCat("Nobody could take escalation ", e.id(),
                                               " yet; the supervisors of your site were told."),
                                  now)});
  return escalations_->MarkBroadcast(e, events).status();
}

absl::Status Router::HandleTimer(absl::string_view member) {
  std::string kind, id;
  int64_t detail = 0;
  if (!ParseTimer(member, &kind, &id, &detail)) {
    BL_LOG(WARNING) << "dropping unknown timer " << member;
    return timers_->Remove(member);
  }
  auto stored = escalations_->Get(id);
  if (absl::IsNotFound(stored.status())) return timers_->Remove(member);
  if (!stored.ok()) return stored.status();
  const v1::Escalation& e = stored->escalation;
  if (kind == "offer") {
    if (e.version() != detail || e.state() != v1::ESCALATION_STATE_OFFERED) {
      return timers_->Remove(member);  // the offer was answered meanwhile
    }
    return ReleaseOffers(e, PendingHelpers(e), "timeout", /*lapsed=*/true);
  }
  if (IsFinal(e.state()) || e.state() == v1::ESCALATION_STATE_ACCEPTED) {
    return timers_->Remove(member);
  }
  if (kind == "ring") {
    BL_RETURN_IF_ERROR(timers_->Remove(member));
    return Route(id);
  }
  if (e.state() == v1::ESCALATION_STATE_OFFERED) {
    // Someone has it right now; look again in a while.
    return timers_->Schedule(member, clock_->Now() + kRecheck);
  }
  if (kind == "wait") {
    BL_RETURN_IF_ERROR(HandleWaitedTooLong(e));
  } else if (kind == "expire") {
    const absl::Time now = clock_->Now();
    v1::Escalation after = Closed(e, v1::ESCALATION_STATE_EXPIRED, "nobody took it in time", now);
    EventList events = {{e.requester(), EscalationUpdatedEvent(after, now)}};
    BL_ASSIGN_OR_RETURN(Outcome outcome, escalations_->Close(e, after, nullptr, events));
    if (outcome == Outcome::kOk) AnnounceWaiting(e, false);
  }
  return timers_->Remove(member);
}

absl::Status Router::OnHelperAvailable(absl::string_view helper) {
  // Route what they qualify for: whether they get it is up to the rings and the ranking.
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                      escalations_->QueuedFor(helper, /*limit=*/8, /*scan=*/500));
  for (const std::string& id : ids) BL_RETURN_IF_ERROR(Route(id));
  return absl::OkStatus();
}

absl::Status Router::OnHelperOnCall(absl::string_view helper) {
  // Only URGENT escalations of groups that allow it can reach someone on a call.
  if (!config_.policy.AnyOnCallTakesUrgent()) return absl::OkStatus();
  return OnHelperAvailable(helper);
}

absl::Status Router::OnHelperUnavailable(absl::string_view helper) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, escalations_->PendingOffersOf(helper));
  if (ids.empty()) return absl::OkStatus();
  // A desktop that vanished is "unreachable"; a status change is a withdrawal.
  auto p = presence_->GetMany({std::string(helper)});
  const bool unreachable = p.ok() && !p->empty() && p->front().reason() == "no desktop connected";
  // Status ON_CALL is only reported while a desktop is alive.
  const bool on_call = p.ok() && !p->empty() && p->front().status() == v1::PRESENCE_STATUS_ON_CALL;
  for (const std::string& id : ids) {
    auto stored = escalations_->Get(id);
    if (!stored.ok()) continue;
    const v1::Escalation& e = stored->escalation;
    // Where the policy lets people on a call take URGENT work, they keep such offers.
    if (on_call && e.priority() == v1::PRIORITY_URGENT &&
        config_.policy.For(e).on_call_takes_urgent) {
      continue;
    }
    if (PendingOfferTo(e, helper) != nullptr) {
      BL_RETURN_IF_ERROR(ReleaseOffers(e, {std::string(helper)},
                                       unreachable ? "unreachable" : "withdrawn",
                                       /*lapsed=*/false));
    }
  }
  return absl::OkStatus();
}

absl::Status Router::DrainQueue(int limit) {
  BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, escalations_->QueueHead(limit));
  for (const std::string& id : ids) BL_RETURN_IF_ERROR(Route(id));
  // Tell requesters whose place in the queue changed.
  BL_ASSIGN_OR_RETURN(ids, escalations_->QueueHead(limit));
  const absl::Time now = clock_->Now();
  for (const std::string& id : ids) {
    auto stored = escalations_->Get(id);
    if (!stored.ok() || stored->escalation.state() != v1::ESCALATION_STATE_QUEUED) continue;
    auto changed = escalations_->PositionChanged(id, stored->escalation.queue_position());
    if (!changed.ok() || !*changed) continue;
    FillWaitEstimate(&stored->escalation);
    events_
        ->Append(stored->escalation.requester(),
                 EscalationUpdatedEvent(stored->escalation, now).SerializeAsString(),
                 absl::ToUnixMillis(now))
        .IgnoreError();
  }
  return absl::OkStatus();
}

void Router::RefreshRecentWaits(absl::Time now) {
  {
    absl::MutexLock lock(&mu_);
    if (now - recent_waits_at_ <= absl::Minutes(1)) return;
    recent_waits_at_ = now;  // this caller reads; the others use the last figures meanwhile
    first_waits_.clear();    // the read sees the offers made before it began
  }
  std::map<std::string, std::vector<absl::Duration>> waits;
  auto from = escalations_->NewestCreatedSince(now - absl::Hours(1), kWaitSample);
  absl::Status read = from.status();
  if (from.ok()) {
    read = escalations_->ForEachCreatedSince(*from, [&](const v1::Escalation& r) {
      if (r.skills_size() > 0 && r.timeline().has_first_offer_time()) {
        waits[r.skills(0).skill()].push_back(FromProtoTime(r.timeline().first_offer_time()) -
                                             FromProtoTime(r.timeline().create_time()));
      }
      return true;
    });
  }
  std::map<std::string, absl::Duration> medians;
  if (read.ok()) {
    for (auto& [skill, w] : waits) {
      std::sort(w.begin(), w.end());
      medians[skill] = w[w.size() / 2];
    }
  }
  absl::MutexLock lock(&mu_);
  medians.insert(first_waits_.begin(), first_waits_.end());
  recent_waits_ = std::move(medians);
  recent_waits_read_ = true;
}

void Router::NoteFirstOffer(const v1::Escalation& e, absl::Time now) {
  if (e.skills_size() == 0) return;
  const absl::Duration waited = now - FromProtoTime(e.timeline().create_time());
  absl::MutexLock lock(&mu_);
  first_waits_.emplace(e.skills(0).skill(), waited);
  if (recent_waits_read_) recent_waits_.emplace(e.skills(0).skill(), waited);
}

void Router::FillWaitEstimate(v1::Escalation* e) {
  if (e->state() != v1::ESCALATION_STATE_QUEUED || e->skills_size() == 0) return;
  const absl::Time now = clock_->Now();
  RefreshRecentWaits(now);
  absl::MutexLock lock(&mu_);
  // Before the first figures, wait for the caller reading them rather than answer without.
  mu_.Await(absl::Condition(&recent_waits_read_));
  auto it = recent_waits_.find(e->skills(0).skill());
  if (it == recent_waits_.end()) return;
  const absl::Duration left = EstimatedWait(it->second, e->queue_position(),
                                            now - FromProtoTime(e->timeline().create_time()));
  *e->mutable_estimated_wait() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(left));
}

absl::StatusOr<v1::RoutingExplanation> Router::Explain(const Principal& caller,
                                                       absl::string_view id) {
  BL_ASSIGN_OR_RETURN(StoredEscalation stored, escalations_->Get(id));
  const v1::Escalation& e = stored.escalation;
  if (caller.role == v1::ROLE_AGENT && caller.id != e.requester()) {
    return absl::PermissionDeniedError("only its requester and supervisors see how it was routed");
  }
  if (caller.role != v1::ROLE_AGENT) BL_RETURN_IF_ERROR(CheckMayView(caller, e));
  const GroupPolicy& group = config_.policy.For(e);
  const absl::Time created = FromProtoTime(e.timeline().create_time());
  const absl::Duration age = clock_->Now() - created;
  const std::string mentor = MentorOf(e, group);
  v1::RoutingExplanation out;
  out.set_escalation_id(e.id());
  out.set_policy_group(group.name);

  // Rings: which are open, and who belongs to which (the first ring that has them).
  std::map<std::string, int> first_ring;
  bool previous_open_and_empty = false;
  for (size_t i = 0; i < group.rings.size(); ++i) {
    const Ring& ring = group.rings[i];
    BL_ASSIGN_OR_RETURN(std::vector<std::string> members, RingMembers(e, ring, mentor));
    for (const std::string& m : members) first_ring.emplace(m, static_cast<int>(i));
    BL_ASSIGN_OR_RETURN(bool staffed, AnyoneLoggedIn(e, ring, mentor));
    v1::RingState* state = out.add_rings();
    state->set_name(ring.name);
    *state->mutable_open_time() = ToProtoTime(created + ring.open_after);
    state->set_open(i == 0 || age >= ring.open_after || previous_open_and_empty);
    state->set_empty(!staffed);
    previous_open_and_empty = state->open() && !staffed;
  }

  // The people considered: everyone with the first required skill, and the mentor.
  v1::ListPeopleRequest q;
  q.set_skill(e.skills(0).skill());
  q.set_page_size(1000);
  BL_ASSIGN_OR_RETURN(v1::ListPeopleResponse with_skill, roster_->List(q));
  std::vector<v1::Person> people(with_skill.people().begin(), with_skill.people().end());
  if (!mentor.empty() && std::none_of(people.begin(), people.end(),
                                      [&](const v1::Person& p) { return p.id() == mentor; })) {
    auto m = roster_->Get(mentor);
    if (m.ok()) people.push_back(*m);
  }
  std::vector<std::string> ids;
  for (const v1::Person& p : people) ids.push_back(p.id());
  BL_ASSIGN_OR_RETURN(std::vector<v1::Presence> presences, presence_->GetMany(ids));
  std::map<std::string, v1::Presence> presence_of;
  for (v1::Presence& p : presences) presence_of[p.person()] = std::move(p);

  auto verdict_of = [&](const v1::Person& p, std::string* detail, std::string* ring_name) {
    auto r = first_ring.find(p.id());
    if (r != first_ring.end()) *ring_name = group.rings[r->second].name;
    if (p.id() == e.requester()) return "requester";
    if (PendingOfferTo(e, p.id()) != nullptr || p.id() == e.helper()) return "offered";
    if (HasDeclined(e, p.id())) return "declined_before";
    const int ring_min = r == first_ring.end() ? 0 : group.rings[r->second].min_proficiency;
    for (const auto& need : e.skills()) {
      auto have = std::find_if(p.skills().begin(), p.skills().end(),
                               [&](const v1::Skill& s) { return s.name() == need.skill(); });
      if (have == p.skills().end()) {
        *detail = absl::StrCat("no ", need.skill());
        return "missing_skill";
      }
      const int min = std::max(need.min_proficiency(), ring_min);
      if (have->proficiency() < min) {
        *detail = absl::StrCat(need.skill(), " ", have->proficiency(), " < ", min);
        return "low_proficiency";
      }
    }
    const auto& langs = p.languages();
    const bool speaks = std::any_of(langs.begin(), langs.end(), [&](const std::string& l) {
      return l == e.language() || absl::StartsWith(l, e.language() + "-");
    });
    if (!speaks) {
      *detail = absl::StrCat("does not speak ", e.language());
      return "no_language";
    }
    auto pr = presence_of.find(p.id());
    if (pr == presence_of.end() || pr->second.status() == v1::PRESENCE_STATUS_OFFLINE) {
      *detail = pr == presence_of.end() ? "" : pr->second.reason();
      return "offline";
    }
    const bool on_call_may_take = pr->second.status() == v1::PRESENCE_STATUS_ON_CALL &&
                                  group.on_call_takes_urgent && e.priority() == v1::PRIORITY_URGENT;
    if (pr->second.status() != v1::PRESENCE_STATUS_AVAILABLE && !on_call_may_take) {
      *detail = absl::StrCat("status ", v1::PresenceStatus_Name(pr->second.status()).substr(16));
      return "not_available";
    }
    if (pr->second.load() >= pr->second.capacity()) {
      *detail = absl::StrCat("load ", pr->second.load(), "/", pr->second.capacity());
      return "at_capacity";
    }
    if (r == first_ring.end()) return "not_in_any_ring";
    if (!out.rings(r->second).open()) {
      *detail = absl::StrCat(
          "opens at ", absl::FormatTime("%H:%M:%S", FromProtoTime(out.rings(r->second).open_time()),
                                        absl::UTCTimeZone()));
      return "ring_not_open";
    }
    return "eligible";
  };
  for (const v1::Person& p : people) {
    v1::CandidateVerdict* v = out.add_candidates();
    v->set_person(p.id());
    std::string detail, ring_name;
    v->set_verdict(verdict_of(p, &detail, &ring_name));
    v->set_detail(detail);
    v->set_ring(ring_name);
  }
  // Best placed first: offered, eligible, then the rest by how close they came.
  static const std::vector<std::string> kOrder = {
      "offered",       "eligible",        "ring_not_open",   "at_capacity",
      "not_available", "offline",         "declined_before", "not_in_any_ring",
      "no_language",   "low_proficiency", "missing_skill",   "requester"};
  auto rank = [](const std::string& v) {
    return std::find(kOrder.begin(), kOrder.end(), v) - kOrder.begin();
  };
  std::stable_sort(
      out.mutable_candidates()->begin(), out.mutable_candidates()->end(),
      [&](const auto& a, const auto& b) { return rank(a.verdict()) < rank(b.verdict()); });
  return out;
}

}  // namespace backline::router
