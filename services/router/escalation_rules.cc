#include "services/router/escalation_rules.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/events.h"
#include "services/common/validation.h"

namespace backline::router {
using google::protobuf::util::TimeUtil;

absl::Status ValidateSkills(google::protobuf::RepeatedPtrField<v1::SkillRequirement>* skills) {
  if (skills->empty()) return absl::InvalidArgumentError("skills: at least one is required");
  if (skills->size() > kMaxSkillsPerEscalation) {
    return absl::InvalidArgumentError(
        absl::StrCat("skills: more than ", kMaxSkillsPerEscalation, " skills"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < skills->size(); ++i) {
    v1::SkillRequirement* s = skills->Mutable(i);
    BL_RETURN_IF_ERROR(CheckName(absl::StrCat("skills[", i, "].skill"), s->skill()));
    if (s->min_proficiency() == 0) s->set_min_proficiency(1);
    if (s->min_proficiency() < 1 || s->min_proficiency() > 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          "skills[", i, "].min_proficiency: ", s->min_proficiency(), " is outside 1..5"));
    }
    if (!seen.insert(s->skill()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("skills[", i, "].skill: \"", s->skill(), "\" is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCreateRequest(v1::CreateEscalationRequest* r) {
  BL_RETURN_IF_ERROR(CheckText("question", r->question(), 1, kMaxQuestionBytes));
  BL_RETURN_IF_ERROR(CheckText("tried", r->tried(), 0, kMaxQuestionBytes));
  BL_RETURN_IF_ERROR(ValidateSkills(r->mutable_skills()));
  std::string language;
  BL_RETURN_IF_ERROR(CanonicalLanguage("language", r->language(), &language));
  r->set_language(language);
  if (!v1::Priority_IsValid(r->priority())) {
    return absl::InvalidArgumentError("priority: unknown value");
  }
  if (r->priority() == v1::PRIORITY_UNSPECIFIED) r->set_priority(v1::PRIORITY_NORMAL);
  const v1::CustomerContext& c = r->customer();
  BL_RETURN_IF_ERROR(CheckText("customer.call_id", c.call_id(), 0, 128));
  BL_RETURN_IF_ERROR(CheckText("customer.segment", c.segment(), 0, 128));
  if (c.attributes_size() > 32) {
    return absl::InvalidArgumentError("customer.attributes: more than 32 entries");
  }
  for (const auto& [key, value] : c.attributes()) {
    BL_RETURN_IF_ERROR(CheckText("customer.attributes key", key, 1, 64));
    BL_RETURN_IF_ERROR(CheckText(absl::StrCat("customer.attributes[", key, "]"), value, 0, 1024));
  }
  if (!r->request_id().empty()) BL_RETURN_IF_ERROR(CheckToken("request_id", r->request_id()));
  return absl::OkStatus();
}

v1::Escalation NewEscalation(std::string id, const v1::Person& requester,
                             const v1::CreateEscalationRequest& r, absl::Time now) {
  v1::Escalation e;
  e.set_id(std::move(id));
  e.set_requester(requester.id());
  e.set_question(r.question());
  e.set_tried(r.tried());
  *e.mutable_skills() = r.skills();
  e.set_language(r.language());
  e.set_priority(r.priority());
  *e.mutable_customer() = r.customer();
  e.set_team(requester.team());
  e.set_site(requester.site());
  e.set_state(v1::ESCALATION_STATE_QUEUED);
  e.set_version(1);
  e.set_thread_id(ThreadIdFor(e.id()));
  *e.mutable_timeline()->mutable_create_time() = ToProtoTime(now);
  return e;
}

double QueueScore(const v1::Escalation& e) {
  // URGENT before HIGH before NORMAL; within a priority, the oldest call first. Milliseconds
  // since the epoch stay below 1e13 for centuries, and the sum is exact in a double.
  const int rank = v1::PRIORITY_URGENT - std::max<int>(e.priority(), v1::PRIORITY_NORMAL);
  int64_t started = TimeUtil::TimestampToMilliseconds(e.timeline().create_time());
  if (e.customer().has_call_start_time()) {
    started = std::min(started, TimeUtil::TimestampToMilliseconds(e.customer().call_start_time()));
  }
  return rank * 1e13 + static_cast<double>(std::max<int64_t>(started, 0));
}

std::string QueueRequirements(const v1::Escalation& e) {
  std::string out = absl::StrCat(e.language(), "|", e.requester(), "|");
  for (const v1::SkillRequirement& s : e.skills()) {
    absl::StrAppend(&out, s.skill(), ":", s.min_proficiency(), ";");
  }
  return out;
}

absl::Duration EstimatedWait(absl::Duration recent_median, int queue_position,
                             absl::Duration waited) {
  return std::max(absl::ZeroDuration(), recent_median * std::max(1, queue_position) - waited);
}

v1::Escalation ImmutablePart(const v1::Escalation& e) {
  v1::Escalation out;
  out.set_id(e.id());
  out.set_requester(e.requester());
  out.set_question(e.question());
  out.set_tried(e.tried());
  *out.mutable_skills() = e.skills();
  out.set_language(e.language());
  out.set_priority(e.priority());
  *out.mutable_customer() = e.customer();
  out.set_team(e.team());
  out.set_site(e.site());
  *out.mutable_timeline()->mutable_create_time() = e.timeline().create_time();
  return out;
}

std::string ThreadIdFor(absl::string_view escalation_id) {
  absl::string_view suffix = escalation_id;
  if (size_t dash = suffix.find('-'); dash != absl::string_view::npos) {
    suffix.remove_prefix(dash + 1);
  }
  return absl::StrCat("thr-", suffix);
}

std::string OfferTimerMember(const v1::Escalation& e) {
  return TimerMember("offer", e.id(), e.version());
}

std::string TimerMember(absl::string_view kind, absl::string_view escalation_id, int64_t detail) {
  return absl::StrCat(kind, "|", escalation_id, "|", detail);
}

bool ParseTimer(absl::string_view member, std::string* kind, std::string* escalation_id,
                int64_t* detail) {
  std::vector<absl::string_view> parts = absl::StrSplit(member, '|');
  if (parts.size() != 3) return false;
  *kind = std::string(parts[0]);
  *escalation_id = std::string(parts[1]);
  return absl::SimpleAtoi(parts[2], detail);
}

bool IsFinal(v1::EscalationState state) {
  return state == v1::ESCALATION_STATE_RESOLVED || state == v1::ESCALATION_STATE_CANCELLED ||
         state == v1::ESCALATION_STATE_EXPIRED;
}

bool WasOfferedTo(const v1::Escalation& e, absl::string_view person) {
  return std::find(e.offered_to().begin(), e.offered_to().end(), person) != e.offered_to().end();
}

bool HasDeclined(const v1::Escalation& e, absl::string_view person) {
  return std::find(e.declined_by().begin(), e.declined_by().end(), person) != e.declined_by().end();
}

absl::Status ContendedError(absl::string_view what) {
  return absl::AbortedError(absl::StrCat(what, ": the escalation kept changing; try again"));
}

const v1::Offer* PendingOfferTo(const v1::Escalation& e, absl::string_view person) {
  if (e.state() != v1::ESCALATION_STATE_OFFERED) return nullptr;
  for (const v1::Offer& o : e.offers()) {
    if (o.helper() == person) return &o;
  }
  return nullptr;
}

std::vector<std::string> PendingHelpers(const v1::Escalation& e) {
  std::vector<std::string> out;
  for (const v1::Offer& o : e.offers()) out.push_back(o.helper());
  return out;
}

v1::Escalation WithOffers(const v1::Escalation& e,
                          const std::vector<std::pair<std::string, std::string>>& offers,
                          absl::Time now, absl::Time deadline) {
  v1::Escalation out = e;
  out.set_state(v1::ESCALATION_STATE_OFFERED);
  out.set_version(e.version() + 1);
  out.clear_offers();
  for (const auto& [helper, offer_id] : offers) {
    v1::Offer* offer = out.add_offers();
    offer->set_offer_id(offer_id);
    offer->set_escalation_id(e.id());
    offer->set_helper(helper);
    *offer->mutable_offer_time() = ToProtoTime(now);
    *offer->mutable_deadline() = ToProtoTime(deadline);
    if (!WasOfferedTo(out, helper)) out.add_offered_to(helper);
  }
  std::sort(out.mutable_offered_to()->begin(), out.mutable_offered_to()->end());
  if (out.offers_size() > 0) *out.mutable_offer() = out.offers(0);
  if (!out.timeline().has_first_offer_time()) {
    *out.mutable_timeline()->mutable_first_offer_time() = ToProtoTime(now);
  }
  return out;
}

v1::Escalation WithOffer(const v1::Escalation& e, absl::string_view helper,
                         absl::string_view offer_id, absl::Time now, absl::Time deadline) {
  return WithOffers(e, {{std::string(helper), std::string(offer_id)}}, now, deadline);
}

v1::Escalation WithAccept(const v1::Escalation& e, absl::string_view helper, absl::Time now) {
  v1::Escalation out = e;
  out.set_state(v1::ESCALATION_STATE_ACCEPTED);
  out.set_version(e.version() + 1);
  out.set_helper(std::string(helper));
  out.set_thread_id(ThreadIdFor(e.id()));
  out.clear_offer();
  out.clear_offers();
  *out.mutable_timeline()->mutable_accept_time() = ToProtoTime(now);
  return out;
}

v1::Escalation WithoutOffers(const v1::Escalation& e, const std::vector<std::string>& helpers) {
  v1::Escalation out = e;
  out.set_version(e.version() + 1);
  out.clear_offers();
  out.clear_offer();
  for (const v1::Offer& o : e.offers()) {
    if (std::find(helpers.begin(), helpers.end(), o.helper()) == helpers.end()) {
      *out.add_offers() = o;
    } else if (!HasDeclined(out, o.helper())) {
      out.add_declined_by(o.helper());
    }
  }
  if (out.offers_size() > 0) {
    *out.mutable_offer() = out.offers(0);
  } else {
    out.set_state(v1::ESCALATION_STATE_QUEUED);
  }
  return out;
}

v1::Escalation Requeued(const v1::Escalation& e) { return WithoutOffers(e, PendingHelpers(e)); }

v1::Escalation Closed(const v1::Escalation& e, v1::EscalationState state, absl::string_view reason,
                      absl::Time now) {
  v1::Escalation out = e;
  out.set_state(state);
  out.set_version(e.version() + 1);
  out.set_close_reason(std::string(reason));
  out.clear_offer();
  out.clear_offers();
  auto* t = out.mutable_timeline();
  switch (state) {
    case v1::ESCALATION_STATE_RESOLVED:
      *t->mutable_resolve_time() = ToProtoTime(now);
      break;
    case v1::ESCALATION_STATE_CANCELLED:
      *t->mutable_cancel_time() = ToProtoTime(now);
      break;
    case v1::ESCALATION_STATE_EXPIRED:
      *t->mutable_expire_time() = ToProtoTime(now);
      break;
    default:
      break;
  }
  return out;
}

v1::Event EscalationUpdatedEvent(const v1::Escalation& e, absl::Time now) {
  v1::Event ev = EventAt(now);
  *ev.mutable_escalation_updated()->mutable_escalation() = e;
  return ev;
}

v1::Event OfferMadeEvent(const v1::Escalation& e, absl::string_view helper, absl::Time now) {
  v1::Event ev = EventAt(now);
  const v1::Offer* offer = PendingOfferTo(e, helper);
  if (offer != nullptr) *ev.mutable_offer()->mutable_offer() = *offer;
  *ev.mutable_offer()->mutable_escalation() = e;
  return ev;
}

v1::Event OfferClosedEvent(const v1::Offer& offer, absl::string_view reason, absl::Time now) {
  v1::Event ev = EventAt(now);
  v1::OfferClosed* c = ev.mutable_offer_closed();
  c->set_offer_id(offer.offer_id());
  c->set_escalation_id(offer.escalation_id());
  c->set_reason(std::string(reason));
  return ev;
}

v1::Message SystemMessage(absl::string_view thread_id, int64_t seq, absl::string_view text,
                          absl::Time now) {
  v1::Message m;
  m.set_thread_id(std::string(thread_id));
  m.set_seq(seq);
  m.set_sender(std::string(kSystemSender));
  m.set_kind(v1::MESSAGE_KIND_SYSTEM);
  m.set_text(std::string(text));
  *m.mutable_create_time() = ToProtoTime(now);
  return m;
}

}  // namespace backline::router
