#include "cli/qt_tray/tray_state.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cli/tray/waiting_list.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

namespace backline::qt_tray {
namespace {

using google::protobuf::util::TimeUtil;

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t));
}

std::string StatusName(v1::PresenceStatus status) {
  return std::string(absl::StripPrefix(v1::PresenceStatus_Name(status), "PRESENCE_STATUS_"));
}

std::string PriorityName(v1::Priority priority) {
  if (priority == v1::PRIORITY_UNSPECIFIED) priority = v1::PRIORITY_NORMAL;
  return std::string(absl::StripPrefix(v1::Priority_Name(priority), "PRIORITY_"));
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// At most `max_chars` characters (code points) of `text` on one line: line breaks become
// spaces, and a cut is marked with an ellipsis. Never splits a UTF-8 sequence.
std::string OneLine(const std::string& text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char && ++chars > max_chars) {
      out += "…";
      return out;
    }
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : text[i]);
  }
  return out;
}

// An escalation in two lines: its question, then who asks, how urgent, in which language and
// for which skills.
std::string AboutLines(const v1::Escalation& e) {
  std::vector<std::string> skills;
  for (const v1::SkillRequirement& s : e.skills()) {
    skills.push_back(absl::StrCat(s.skill(), " ≥ ", s.min_proficiency()));
  }
  return absl::StrCat(OneLine(e.question(), 120), "\n", e.requester(), " · ",
                      PriorityName(e.priority()), " · ", e.language(), " · ",
                      absl::StrJoin(skills, ", "));
}

// The offer of `escalation` made to `me`, if it has one.
const v1::Offer* OfferTo(const v1::Escalation& escalation, const std::string& me) {
  for (const v1::Offer& o : escalation.offers()) {
    if (o.helper() == me) return &o;
  }
  if (escalation.has_offer() && escalation.offer().helper() == me) return &escalation.offer();
  return nullptr;
}

// A later version of a message replaces an earlier one: an edit or a deletion wins over what
// came before it, never the other way round.
bool Supersedes(const v1::Message& candidate, const v1::Message& current) {
  if (current.deleted() != candidate.deleted()) return candidate.deleted();
  return TimeUtil::TimestampToNanoseconds(candidate.edit_time()) >=
         TimeUtil::TimestampToNanoseconds(current.edit_time());
}

}  // namespace

TrayState::TrayState(std::string me) : me_(std::move(me)) {}

void TrayState::SetConnection(const FeedStateChange& change) {
  connection_ = change;
  if (change.state == FeedState::kConnected) {
    if (++connects_ > 1) ++reconnects_;
    AskReload();
    if (wanted_status_) {
      TrayRequest r = TrayRequest::Of(TrayRequest::kSetStatus);
      r.status = *wanted_status_;
      Request(std::move(r));
    }
  }
  Changed();
}

void TrayState::ApplyEvent(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kOffer:
      AddOffer(event.offer().offer(), event.offer().escalation());
      break;
    case v1::Event::kOfferClosed:
      CloseOffer(event.offer_closed().escalation_id(), event.offer_closed().offer_id());
      break;
    case v1::Event::kEscalationUpdated: {
      const v1::Escalation& e = event.escalation_updated().escalation();
      RememberEscalation(e);
      auto it = offers_.find(e.id());
      if (it != offers_.end()) {
        const v1::Offer* mine = OfferTo(e, me_);
        if (e.state() != v1::ESCALATION_STATE_OFFERED || mine == nullptr ||
            mine->offer_id() != it->second.offer.offer_id()) {
          CloseOffer(e.id(), it->second.offer.offer_id());
        } else {
          it->second.escalation = e;
        }
      }
      if (e.state() != v1::ESCALATION_STATE_QUEUED) cli::tray::DropWaiting(e.id(), &waiting_);
      break;
    }
    case v1::Event::kEscalationCreated:
      RememberEscalation(event.escalation_created().escalation());
      break;
    case v1::Event::kWaitingChanged:
      cli::tray::ApplyWaitingChanged(event.waiting_changed(), &waiting_);
      break;
    case v1::Event::kMessagePosted:
      AddMessage(event.message_posted().message());
      break;
    case v1::Event::kMessageChanged:
      AddMessage(event.message_changed().message());
      break;
    case v1::Event::kReadMarker:
      if (event.read_marker().person() == me_) {
        TrayThread& t = Thread(event.read_marker().thread_id());
        t.thread.set_read_seq(std::max(t.thread.read_seq(), event.read_marker().seq()));
      }
      break;
    case v1::Event::kThreadChanged:
      MergeThread(event.thread_changed().thread(), /*snapshot=*/false);
      break;
    case v1::Event::kNotice:
      notice_ = event.notice().text();
      Request(TrayRequest::Of(TrayRequest::kLoadPresence));
      break;
    case v1::Event::kGap:
      notice_ = "Some events were no longer kept while away; everything was reloaded.";
      AskReload();
      break;
    case v1::Event::kPresenceChanged:
      if (event.presence_changed().presence().person() == me_) {
        SetPresence(event.presence_changed().presence());
      }
      break;
    default:  // typing: not shown by the tray
      return;
  }
  Changed();
}

void TrayState::SetPresence(const v1::Presence& presence) {
  presence_ = presence;
  if (wanted_status_ && presence.status() == *wanted_status_) wanted_status_.reset();
  Changed();
}

void TrayState::LoadOffers(const std::vector<v1::Escalation>& offered, uint64_t generation) {
  std::set<std::string> listed;
  for (const v1::Escalation& e : offered) {
    const v1::Offer* mine = OfferTo(e, me_);
    if (mine == nullptr) continue;
    listed.insert(e.id());
    AddOffer(*mine, e);
  }
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& [id, o] : offers_) {
    if (o.learned < generation && listed.count(id) == 0) gone.emplace_back(id, o.offer.offer_id());
  }
  for (const auto& [id, offer_id] : gone) CloseOffer(id, offer_id);
  Changed();
}

void TrayState::LoadThreads(const std::vector<v1::Thread>& threads) {
  for (const v1::Thread& t : threads) MergeThread(t, /*snapshot=*/true);
  MarkShownThreadRead();
  Changed();
}

void TrayState::LoadEscalations(const std::vector<v1::Escalation>& escalations) {
  for (const v1::Escalation& e : escalations) RememberEscalation(e);
  Changed();
}

void TrayState::LoadMessages(const std::string& thread_id,
                             const std::vector<v1::Message>& messages) {
  for (const v1::Message& m : messages) {
    if (m.thread_id() == thread_id) AddMessage(m);
  }
  Changed();
}

void TrayState::LoadWaiting(const std::vector<v1::WaitingEscalation>& waiting) {
  waiting_ = waiting;
  Changed();
}

void TrayState::Accepted(const v1::Escalation& escalation) { BecameHelper(escalation, "Accepted"); }

void TrayState::Took(const v1::Escalation& escalation) {
  cli::tray::DropWaiting(escalation.id(), &waiting_);
  Request(TrayRequest::Of(TrayRequest::kLoadWaiting));  // the others' places moved up
  BecameHelper(escalation, "Taken");
}

void TrayState::TakeFailed(const std::string& escalation_id, const absl::Status& error) {
  Failed(absl::StrCat("take ", escalation_id), error);
  Request(TrayRequest::Of(TrayRequest::kLoadWaiting));
}

void TrayState::BecameHelper(const v1::Escalation& escalation, const std::string& what) {
  OfferGone(escalation.id());
  RememberEscalation(escalation);
  notice_ = absl::StrCat(what, ": ", OneLine(escalation.question(), 80));
  if (!escalation.thread_id().empty()) {
    TrayThread& t = Thread(escalation.thread_id());
    t.thread.set_kind(v1::THREAD_KIND_ESCALATION);
    t.thread.set_escalation_id(escalation.id());
    Request(TrayRequest::ForThread(TrayRequest::kLoadThread, escalation.thread_id()));
    OpenThread(escalation.thread_id());
  }
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));
  Changed();
}

void TrayState::Declined(const v1::Escalation& escalation) {
  OfferGone(escalation.id());
  RememberEscalation(escalation);
  notice_ = absl::StrCat("Declined: ", OneLine(escalation.question(), 80));
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));
  Changed();
}

void TrayState::Notice(std::string text) {
  notice_ = std::move(text);
  Changed();
}

void TrayState::EscalationChanged(const v1::Escalation& escalation, const std::string& what) {
  RememberEscalation(escalation);
  notice_ = absl::StrCat(what, ": ", OneLine(escalation.question(), 80));
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));
  Changed();
}

std::string TrayState::ShownEscalation() const {
  auto t = threads_.find(open_thread_);
  return t == threads_.end() ? "" : t->second.thread.escalation_id();
}

const v1::Escalation* TrayState::ResolvableEscalation() const {
  auto t = threads_.find(open_thread_);
  if (t == threads_.end() || t->second.thread.escalation_id().empty()) return nullptr;
  auto e = escalations_.find(t->second.thread.escalation_id());
  if (e == escalations_.end() || e->second.state() != v1::ESCALATION_STATE_ACCEPTED) return nullptr;
  return &e->second;
}

void TrayState::OfferGone(const std::string& escalation_id) {
  auto it = offers_.find(escalation_id);
  if (it == offers_.end()) return;
  CloseOffer(escalation_id, it->second.offer.offer_id());
  Changed();
}

void TrayState::Failed(const std::string& what, const absl::Status& error) {
  notice_ = absl::StrCat(what, ": ", error.message().empty() ? error.ToString() : error.message());
  Changed();
}

void TrayState::ReplyFailed(const std::string& thread_id, const std::string& text,
                            const absl::Status& error) {
  Failed("send", error);
  returned_reply_ = ReturnedReply{thread_id, text};
}

void TrayState::Done(const TrayRequest& request, bool ok) {
  pending_.erase(Pending(request));
  if (ok && request.kind == TrayRequest::kMarkRead) MarkShownThreadRead();
}

void TrayState::WantStatus(v1::PresenceStatus status) {
  wanted_status_ = status;
  if (connection_.state == FeedState::kConnected) {
    TrayRequest r = TrayRequest::Of(TrayRequest::kSetStatus);
    r.status = status;
    Request(std::move(r));
  }
  Changed();
}

void TrayState::OpenThread(const std::string& thread_id) {
  open_thread_ = thread_id;
  if (!thread_id.empty()) {
    Request(TrayRequest::ForThread(TrayRequest::kLoadMessages, thread_id));
    MarkShownThreadRead();
  }
  Changed();
}

void TrayState::Tick(absl::Time now) {
  std::vector<std::pair<std::string, std::string>> lapsed;
  for (const auto& [id, o] : offers_) {
    if (TimeOf(o.offer.deadline()) + kLapsedOfferGrace < now) {
      lapsed.emplace_back(id, o.offer.offer_id());
    }
  }
  for (const auto& [id, offer_id] : lapsed) CloseOffer(id, offer_id);
  if (!lapsed.empty()) Changed();
  if (connection_.state == FeedState::kConnected && now >= next_waiting_load_) {
    Request(TrayRequest::Of(TrayRequest::kLoadWaiting));
    next_waiting_load_ = now + kWaitingRefresh;
  }
}

void TrayState::SetVisible(bool visible) {
  if (visible_ == visible) return;
  visible_ = visible;
  MarkShownThreadRead();
  Changed();
}

std::vector<TrayRequest> TrayState::TakeRequests() { return std::exchange(requests_, {}); }

std::vector<PendingOffer> TrayState::TakeNewOffers() { return std::exchange(new_offers_, {}); }

std::optional<TrayState::ReturnedReply> TrayState::TakeReturnedReply() {
  return std::exchange(returned_reply_, std::nullopt);
}

std::vector<const PendingOffer*> TrayState::Offers() const {
  std::vector<const PendingOffer*> out;
  for (const auto& [id, o] : offers_) out.push_back(&o);
  std::sort(out.begin(), out.end(), [](const PendingOffer* a, const PendingOffer* b) {
    const int64_t da = TimeUtil::TimestampToMilliseconds(a->offer.deadline());
    const int64_t db = TimeUtil::TimestampToMilliseconds(b->offer.deadline());
    return da != db ? da < db : a->escalation.id() < b->escalation.id();
  });
  return out;
}

const PendingOffer* TrayState::FindOffer(const std::string& escalation_id) const {
  auto it = offers_.find(escalation_id);
  return it == offers_.end() ? nullptr : &it->second;
}

std::vector<const TrayThread*> TrayState::Threads() const {
  std::vector<const TrayThread*> out;
  for (const auto& [id, t] : threads_) out.push_back(&t);
  std::sort(out.begin(), out.end(), [](const TrayThread* a, const TrayThread* b) {
    return a->activity != b->activity ? a->activity > b->activity : a->thread.id() < b->thread.id();
  });
  return out;
}

const TrayThread* TrayState::FindThread(const std::string& thread_id) const {
  auto it = threads_.find(thread_id);
  return it == threads_.end() ? nullptr : &it->second;
}

std::string TrayState::OfferLine(const PendingOffer& o, absl::Time now) const {
  const int64_t left = std::max<int64_t>(
      0, absl::ToInt64Seconds(TimeOf(o.offer.deadline()) - now + absl::Milliseconds(999)));
  return absl::StrCat(AboutLines(o.escalation), " · ", left, " s left");
}

std::string TrayState::WaitingLine(const v1::WaitingEscalation& w, absl::Time now) const {
  const v1::Escalation& e = w.escalation();
  std::string line = AboutLines(e);
  // The place in the queue comes with the list, not with the stream's events.
  if (e.queue_position() > 0) absl::StrAppend(&line, " · #", e.queue_position(), " in the queue");
  if (e.timeline().has_create_time()) {
    const int64_t waited =
        std::max<int64_t>(0, absl::ToInt64Seconds(now - TimeOf(e.timeline().create_time())));
    absl::StrAppend(&line, " · waiting ", waited, " s");
  }
  if (w.best_match()) absl::StrAppend(&line, " · best match");
  return line;
}

std::vector<const v1::WaitingEscalation*> TrayState::Waiting() const {
  std::vector<const v1::WaitingEscalation*> out;
  for (const v1::WaitingEscalation& w : waiting_) {
    if (offers_.count(w.escalation().id()) == 0) out.push_back(&w);
  }
  return out;
}

std::string TrayState::ThreadTitle(const TrayThread& t) const {
  switch (t.thread.kind()) {
    case v1::THREAD_KIND_ESCALATION: {
      auto it = escalations_.find(t.thread.escalation_id());
      if (it != escalations_.end()) return OneLine(it->second.question(), 60);
      return absl::StrCat("escalation ", t.thread.escalation_id());
    }
    case v1::THREAD_KIND_DIRECT: {
      std::vector<std::string> others;
      for (const std::string& p : t.thread.participants()) {
        if (p != me_) others.push_back(p);
      }
      return others.empty() ? t.thread.id() : absl::StrJoin(others, ", ");
    }
    case v1::THREAD_KIND_TEAM:
      return absl::StrCat("team ", t.thread.team());
    default:
      return t.thread.id();
  }
}

std::string TrayState::ThreadLine(const TrayThread& t) const {
  const int64_t unread = t.unread();
  return unread > 0 ? absl::StrCat(ThreadTitle(t), " (", unread, ")") : ThreadTitle(t);
}

std::string TrayState::MessageLine(const v1::Message& m) {
  const std::string when =
      absl::FormatTime("%H:%M", TimeOf(m.create_time()), absl::LocalTimeZone());
  if (m.deleted()) return absl::StrCat(when, " ", m.sender(), ": (deleted)");
  const std::string edited = m.has_edit_time() ? " (edited)" : "";
  switch (m.kind()) {
    case v1::MESSAGE_KIND_KB_HIT:
      return absl::StrCat(when, " ", m.sender(), ": [article] ", m.kb_hit().title(), " — ",
                          m.kb_hit().snippet(), " ", m.kb_hit().link());
    case v1::MESSAGE_KIND_SYSTEM:
      return absl::StrCat(when, " — ", m.text());
    default:
      return absl::StrCat(when, " ", m.sender(), ": ", m.text(), edited);
  }
}

TraySummary TrayState::Summarize(absl::Time now) const {
  TraySummary s;
  s.offers = static_cast<int>(offers_.size());
  for (const auto& [id, t] : threads_) s.unread += t.unread();
  const std::string status = presence_ ? StatusName(presence_->status()) : "status unknown";

  switch (connection_.state) {
    case FeedState::kConnecting:
      s.connection = "Connecting to the server…";
      break;
    case FeedState::kConnected:
      s.connection = "Connected";
      break;
    case FeedState::kReconnecting: {
      const int64_t in = std::max<int64_t>(0, absl::ToInt64Seconds(connection_.next_attempt - now));
      s.connection = absl::StrCat("Reconnecting in ", in, " s (attempt ", connection_.attempt,
                                  "): ", connection_.error.message());
      break;
    }
    case FeedState::kStopped:
      s.connection = absl::StrCat("Stopped: ", connection_.error.ok()
                                                   ? std::string("closed")
                                                   : std::string(connection_.error.message()));
      break;
  }

  s.title = absl::StrCat("Backline — ", me_, ": ", status);
  if (s.offers > 0) absl::StrAppend(&s.title, ", ", Plural(s.offers, "offer", "offers"));
  if (s.unread > 0) absl::StrAppend(&s.title, ", ", s.unread, " unread");
  if (connection_.state != FeedState::kConnected) {
    absl::StrAppend(&s.title, " (", absl::AsciiStrToLower(FeedStateName(connection_.state)), ")");
  }

  if (connection_.state != FeedState::kConnected) {
    s.badge = TrayBadge::kDisconnected;
  } else if (s.offers > 0) {
    s.badge = TrayBadge::kOffer;
  } else if (!presence_ || presence_->status() == v1::PRESENCE_STATUS_OFFLINE) {
    s.badge = TrayBadge::kOffline;
  } else if (presence_->status() == v1::PRESENCE_STATUS_AVAILABLE) {
    s.badge = TrayBadge::kAvailable;
  } else {
    s.badge = TrayBadge::kBusy;
  }

  std::vector<std::string> lines = {absl::StrCat("Backline — ", me_)};
  if (presence_) {
    lines.push_back(
        absl::StrCat(status, ", load ", presence_->load(), " of ", presence_->capacity()));
  }
  for (const PendingOffer* o : Offers()) {
    lines.push_back(absl::StrCat("Offer: ", OneLine(o->escalation.question(), 60)));
  }
  if (s.unread > 0) lines.push_back(absl::StrCat(s.unread, " unread"));
  lines.push_back(s.connection);
  s.tooltip = absl::StrJoin(lines, "\n");
  return s;
}

std::string TrayState::ToJson(absl::Time now, const std::string& extra) const {
  using nlohmann::json;
  json j;
  j["me"] = me_;
  j["version"] = version_;
  j["connection"] = {{"state", std::string(FeedStateName(connection_.state))},
                     {"error", std::string(connection_.error.message())},
                     {"reconnects", reconnects_}};
  if (presence_) {
    j["presence"] = {{"status", StatusName(presence_->status())},
                     {"reason", presence_->reason()},
                     {"load", presence_->load()},
                     {"capacity", presence_->capacity()}};
  } else {
    j["presence"] = nullptr;
  }
  json offers = json::array();
  for (const PendingOffer* o : Offers()) {
    offers.push_back({{"escalation_id", o->escalation.id()},
                      {"offer_id", o->offer.offer_id()},
                      {"question", o->escalation.question()},
                      {"requester", o->escalation.requester()},
                      {"deadline_ms", TimeUtil::TimestampToMilliseconds(o->offer.deadline())},
                      {"line", OfferLine(*o, now)}});
  }
  j["offers"] = std::move(offers);
  json waiting = json::array();
  for (const v1::WaitingEscalation* w : Waiting()) {
    waiting.push_back({{"escalation_id", w->escalation().id()},
                       {"best_match", w->best_match()},
                       {"line", WaitingLine(*w, now)}});
  }
  j["waiting"] = std::move(waiting);
  json threads = json::array();
  for (const TrayThread* t : Threads()) {
    json messages = json::array();
    for (const auto& [seq, m] : t->messages) {
      messages.push_back({{"seq", seq},
                          {"sender", m.sender()},
                          {"kind", v1::MessageKind_Name(m.kind())},
                          {"text", m.text()},
                          {"deleted", m.deleted()}});
    }
    threads.push_back({{"id", t->thread.id()},
                       {"kind", v1::ThreadKind_Name(t->thread.kind())},
                       {"escalation_id", t->thread.escalation_id()},
                       {"title", ThreadTitle(*t)},
                       {"last_seq", t->thread.last_seq()},
                       {"read_seq", t->thread.read_seq()},
                       {"unread", t->unread()},
                       {"messages", std::move(messages)}});
  }
  j["threads"] = std::move(threads);
  j["open_thread"] = open_thread_;
  j["notice"] = notice_;
  const TraySummary s = Summarize(now);
  j["title"] = s.title;
  j["badge"] = static_cast<int>(s.badge);
  if (!extra.empty()) j.update(json::parse(extra));
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

void TrayState::Request(TrayRequest request) {
  const std::string key = Pending(request);
  if (!key.empty() && !pending_.insert(key).second) return;
  requests_.push_back(std::move(request));
}

void TrayState::AskReload() {
  TrayRequest r = TrayRequest::Of(TrayRequest::kReload);
  r.generation = ++generation_;
  Request(std::move(r));
  next_waiting_load_ = absl::InfinitePast();  // the next tick reads the looking-for-help list
  if (!open_thread_.empty()) {
    Request(TrayRequest::ForThread(TrayRequest::kLoadMessages, open_thread_));
  }
}

void TrayState::AddOffer(const v1::Offer& offer, const v1::Escalation& escalation) {
  if (closed_offers_.count(offer.offer_id()) > 0) return;
  RememberEscalation(escalation);
  PendingOffer& o = offers_[escalation.id()];
  if (o.offer.offer_id() != offer.offer_id()) {
    o.offer = offer;
    o.learned = generation_;
  }
  o.escalation = escalation;
  if (notified_offers_.insert(offer.offer_id()).second) new_offers_.push_back(o);
}

void TrayState::CloseOffer(const std::string& escalation_id, const std::string& offer_id) {
  if (!offer_id.empty()) closed_offers_.insert(offer_id);
  auto it = offers_.find(escalation_id);
  if (it != offers_.end() && (offer_id.empty() || it->second.offer.offer_id() == offer_id)) {
    offers_.erase(it);
  }
  new_offers_.erase(std::remove_if(new_offers_.begin(), new_offers_.end(),
                                   [&](const PendingOffer& o) {
                                     return closed_offers_.count(o.offer.offer_id()) > 0;
                                   }),
                    new_offers_.end());
}

void TrayState::RememberEscalation(const v1::Escalation& escalation) {
  if (escalation.id().empty()) return;
  auto [it, inserted] = escalations_.emplace(escalation.id(), escalation);
  if (!inserted && escalation.version() >= it->second.version()) it->second = escalation;
}

TrayThread& TrayState::Thread(const std::string& thread_id) {
  TrayThread& t = threads_[thread_id];
  if (t.thread.id().empty()) t.thread.set_id(thread_id);
  return t;
}

void TrayState::MergeThread(const v1::Thread& in, bool snapshot) {
  if (in.id().empty()) return;
  TrayThread& t = Thread(in.id());
  if (snapshot) t.loaded = true;
  const int64_t last_seq = std::max(t.thread.last_seq(), in.last_seq());
  const int64_t read_seq = std::max(t.thread.read_seq(), in.read_seq());
  v1::Thread merged = in;
  if (merged.participants().empty()) *merged.mutable_participants() = t.thread.participants();
  if (merged.kind() == v1::THREAD_KIND_UNSPECIFIED) merged.set_kind(t.thread.kind());
  if (merged.escalation_id().empty()) merged.set_escalation_id(t.thread.escalation_id());
  merged.set_last_seq(last_seq);
  merged.set_read_seq(read_seq);
  merged.clear_unread_count();  // TrayThread::unread() says it
  t.thread = std::move(merged);
  if (in.has_last_activity_time())
    t.activity = std::max(t.activity, TimeOf(in.last_activity_time()));
  if (in.has_create_time()) t.activity = std::max(t.activity, TimeOf(in.create_time()));
  if (!t.loaded) {
    Request(TrayRequest::ForThread(TrayRequest::kLoadThread, in.id()));
  }
  if (t.thread.kind() == v1::THREAD_KIND_ESCALATION && !t.thread.escalation_id().empty() &&
      escalations_.count(t.thread.escalation_id()) == 0) {
    TrayRequest r = TrayRequest::Of(TrayRequest::kLoadEscalation);
    r.escalation_id = t.thread.escalation_id();
    Request(std::move(r));
  }
}

void TrayState::AddMessage(const v1::Message& m) {
  if (m.thread_id().empty() || m.seq() <= 0) return;
  TrayThread& t = Thread(m.thread_id());
  auto [it, inserted] = t.messages.emplace(m.seq(), m);
  if (!inserted && Supersedes(m, it->second)) it->second = m;
  while (t.messages.size() > kMaxMessagesPerThread) t.messages.erase(t.messages.begin());
  t.thread.set_last_seq(std::max(t.thread.last_seq(), m.seq()));
  if (m.sender() == me_) t.thread.set_read_seq(std::max(t.thread.read_seq(), m.seq()));
  if (m.has_create_time()) t.activity = std::max(t.activity, TimeOf(m.create_time()));
  if (!t.loaded) {
    Request(TrayRequest::ForThread(TrayRequest::kLoadThread, m.thread_id()));
  }
  MarkShownThreadRead();
}

void TrayState::MarkShownThreadRead() {
  if (!visible_ || open_thread_.empty()) return;
  auto it = threads_.find(open_thread_);
  if (it == threads_.end() || it->second.unread() == 0) return;
  Request(
      TrayRequest::ForThread(TrayRequest::kMarkRead, open_thread_, it->second.thread.last_seq()));
}

std::string TrayState::Pending(const TrayRequest& r) const {
  switch (r.kind) {
    case TrayRequest::kLoadThread:
      return absl::StrCat("thread:", r.thread_id);
    case TrayRequest::kLoadEscalation:
      return absl::StrCat("escalation:", r.escalation_id);
    case TrayRequest::kMarkRead:
      return absl::StrCat("read:", r.thread_id);
    case TrayRequest::kLoadPresence:
      return "presence";
    case TrayRequest::kLoadWaiting:
      return "waiting";
    default:  // reloads, message loads and status changes are always sent
      return "";
  }
}

}  // namespace backline::qt_tray
