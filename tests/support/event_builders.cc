#include "tests/support/event_builders.h"

#include "google/protobuf/util/time_util.h"

namespace backline::testing {

google::protobuf::Timestamp Stamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(t));
}

v1::Escalation OfferedEscalation(const std::string& id, const std::string& offer_id,
                                 const std::string& helper, const std::string& question,
                                 absl::Time deadline) {
  v1::Escalation e;
  e.set_id(id);
  e.set_requester("anna");
  e.set_question(question);
  e.set_language("da");
  e.set_state(v1::ESCALATION_STATE_OFFERED);
  e.set_version(2);
  v1::SkillRequirement* s = e.add_skills();
  s->set_skill("billing");
  s->set_min_proficiency(3);
  v1::Offer* o = e.add_offers();
  o->set_offer_id(offer_id);
  o->set_escalation_id(id);
  o->set_helper(helper);
  *o->mutable_offer_time() = Stamp(kEventTime);
  *o->mutable_deadline() = Stamp(deadline);
  *e.mutable_offer() = *o;
  return e;
}

v1::WaitingEscalation WaitingEscalation(const std::string& id, int position, absl::Duration waited,
                                        bool best_match, const std::string& question) {
  v1::WaitingEscalation w;
  v1::Escalation& e = *w.mutable_escalation();
  e = OfferedEscalation(id, "", "", question, kEventTime);
  e.clear_offer();
  e.clear_offers();
  e.set_state(v1::ESCALATION_STATE_QUEUED);
  e.set_queue_position(position);
  *e.mutable_timeline()->mutable_create_time() = Stamp(kEventTime - waited);
  w.set_best_match(best_match);
  return w;
}

v1::Event WaitingChangedEvent(const v1::WaitingEscalation& w, bool waiting) {
  v1::Event ev;
  *ev.mutable_time() = Stamp(kEventTime);
  *ev.mutable_waiting_changed()->mutable_escalation() = w.escalation();
  ev.mutable_waiting_changed()->set_waiting(waiting);
  ev.mutable_waiting_changed()->set_best_match(w.best_match());
  return ev;
}

v1::Event OfferMadeEvent(const v1::Escalation& e) {
  v1::Event ev;
  *ev.mutable_offer()->mutable_offer() = e.offer();
  *ev.mutable_offer()->mutable_escalation() = e;
  return ev;
}

v1::Event OfferClosedEvent(const std::string& escalation_id, const std::string& offer_id,
                           const std::string& reason) {
  v1::Event ev;
  ev.mutable_offer_closed()->set_escalation_id(escalation_id);
  ev.mutable_offer_closed()->set_offer_id(offer_id);
  ev.mutable_offer_closed()->set_reason(reason);
  return ev;
}

v1::Message TextMessage(const std::string& thread, int64_t seq, const std::string& sender,
                        const std::string& text) {
  v1::Message m;
  m.set_thread_id(thread);
  m.set_seq(seq);
  m.set_sender(sender);
  m.set_kind(v1::MESSAGE_KIND_TEXT);
  m.set_text(text);
  *m.mutable_create_time() = Stamp(kEventTime + absl::Seconds(seq));
  return m;
}

v1::Event PostedEvent(const v1::Message& m) {
  v1::Event ev;
  *ev.mutable_message_posted()->mutable_message() = m;
  return ev;
}

v1::Thread DirectThread(const std::string& id, int64_t last_seq, int64_t read_seq,
                        absl::Time activity) {
  v1::Thread t;
  t.set_id(id);
  t.set_kind(v1::THREAD_KIND_DIRECT);
  t.add_participants("anna");
  t.add_participants("soren");
  t.set_last_seq(last_seq);
  t.set_read_seq(read_seq);
  t.set_unread_count(last_seq - read_seq);
  *t.mutable_last_activity_time() = Stamp(activity);
  return t;
}

}  // namespace backline::testing
