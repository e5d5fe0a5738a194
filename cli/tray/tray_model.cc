#include "cli/tray/tray_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/tray/failure.h"
#include "cli/tray/text.h"
#include "cli/tray/waiting_list.h"
#include "cli/words.h"
#include "google/protobuf/util/time_util.h"

namespace backline::cli::tray {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kOfferKey[] = "offer:";
constexpr char kWaitingKey[] = "waiting:";
constexpr char kThreadKey[] = "thread:";
// How long an offer past its deadline stays without word from the server.
constexpr absl::Duration kLapsedOfferGrace = absl::Seconds(5);
// How long "anna is typing…" shows after the last typing event.
constexpr absl::Duration kTypingShown = absl::Seconds(4);
// Lines a page key scrolls the open thread.
constexpr int kPageLines = 10;

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t));
}

std::string StatusWords(v1::PresenceStatus s) {
  switch (s) {
    case v1::PRESENCE_STATUS_AVAILABLE:
      return "available";
    case v1::PRESENCE_STATUS_ON_CALL:
      return "on call";
    case v1::PRESENCE_STATUS_WRAP_UP:
      return "wrap-up";
    case v1::PRESENCE_STATUS_BREAK:
      return "break";
    case v1::PRESENCE_STATUS_MEETING:
      return "meeting";
    case v1::PRESENCE_STATUS_OFFLINE:
      return "offline";
    default:
      return "unknown status";
  }
}

std::string Skills(const v1::Escalation& e) {
  std::vector<std::string> parts;
  for (const auto& s : e.skills()) {
    parts.push_back(absl::StrCat(s.skill(), ">=", s.min_proficiency()));
  }
  return absl::StrJoin(parts, ",");
}

std::string StateWord(v1::EscalationState s) {
  absl::string_view n = v1::EscalationState_Name(s);
  absl::ConsumePrefix(&n, "ESCALATION_STATE_");
  return std::string(n);
}

// What an offer or a waiting escalation says of itself: a high or urgent priority, who asks,
// what it needs, and the question on one line.
std::string Question(const v1::Escalation& e) {
  std::string text;
  if (e.priority() == v1::PRIORITY_HIGH || e.priority() == v1::PRIORITY_URGENT) {
    absl::string_view p = v1::Priority_Name(e.priority());
    absl::ConsumePrefix(&p, "PRIORITY_");
    absl::StrAppend(&text, p, "  ");
  }
  absl::StrAppend(&text, e.requester(), " [", Skills(e), ", ", e.language(),
                  "]: ", OneLine(e.question()));
  return text;
}

// The status keys of the list, as the key bar shows them.
struct StatusKey {
  const char* key;
  v1::PresenceStatus status;
};
constexpr StatusKey kStatusKeys[] = {
    {"1", v1::PRESENCE_STATUS_AVAILABLE}, {"2", v1::PRESENCE_STATUS_ON_CALL},
    {"3", v1::PRESENCE_STATUS_WRAP_UP},   {"4", v1::PRESENCE_STATUS_BREAK},
    {"5", v1::PRESENCE_STATUS_MEETING},   {"0", v1::PRESENCE_STATUS_OFFLINE},
};

std::string ListHelp() {
  std::string help = "a accept  d decline  t take  ↑↓ select  Enter open";
  for (const StatusKey& k : kStatusKeys)
    absl::StrAppend(&help, "  ", k.key, " ", StatusWords(k.status));
  absl::StrAppend(&help, "  r reload  q quit");
  return help;
}

constexpr char kThreadHelp[] =
    "Enter send  /resolve [note]  /transfer SKILL[:LEVEL]…  /invite PERSON  Esc back to the list  "
    "PgUp/PgDn scroll  Ctrl-C quit";

// The person's pending offer of an escalation, if it has one.
const v1::Offer* OfferTo(const v1::Escalation& e, const std::string& me) {
  for (const v1::Offer& o : e.offers()) {
    if (o.helper() == me) return &o;
  }
  if (e.offer().helper() == me) return &e.offer();
  return nullptr;
}

// Seconds left until `deadline`, rounded up, never below 0.
int64_t SecondsLeft(const google::protobuf::Timestamp& deadline, absl::Time now) {
  const double s = absl::ToDoubleSeconds(TimeOf(deadline) - now);
  return s <= 0 ? 0 : static_cast<int64_t>(std::ceil(s));
}

std::string Countdown(int64_t seconds) {
  if (seconds < 60) return absl::StrCat(seconds, "s");
  return absl::StrCat(seconds / 60, "m", seconds % 60 < 10 ? "0" : "", seconds % 60, "s");
}

// `text` right-aligned after `left` on one line of `width` columns, if both fit.
std::string LeftRight(const std::string& left, const std::string& right, int width) {
  const int gap = width - DisplayWidth(left) - DisplayWidth(right);
  if (gap < 2) return Fit(absl::StrCat(left, "  ", right), width);
  return absl::StrCat(left, std::string(static_cast<size_t>(gap), ' '), right);
}

// The tail of `text` that fits in `width` columns (the end of a long reply being typed).
std::string Tail(const std::string& text, int width) {
  std::u32string cps = DecodeUtf8(text);
  int used = 0;
  size_t start = cps.size();
  while (start > 0 && used + CharWidth(cps[start - 1]) <= width) {
    used += CharWidth(cps[start - 1]);
    --start;
  }
  return EncodeUtf8(std::u32string_view(cps).substr(start));
}

}  // namespace

TrayModel::TrayModel(std::string me) : me_(std::move(me)) {}

// ---------- what the server says ----------

void TrayModel::SetPresence(const v1::Presence& presence) {
  if (presence.person().empty() || presence.person() == me_) presence_ = presence;
}

void TrayModel::SetConnection(const FeedStateChange& change) {
  connection_ = change;
  switch (change.state) {
    case FeedState::kConnected:
      Request(TrayRequest::Of(TrayRequest::kReload));
      next_waiting_load_ = absl::InfinitePast();
      if (!open_thread_.empty())
        Request(TrayRequest::ForThread(TrayRequest::kLoadThread, open_thread_));
      break;
    case FeedState::kStopped:
      if (!change.error.ok()) Failed("the server ended the event stream", change.error);
      break;
    default:
      break;
  }
}

void TrayModel::ApplyEvent(const v1::Event& ev) {
  switch (ev.payload_case()) {
    case v1::Event::kOffer:
      RememberEscalation(ev.offer().escalation());
      AddOffer(ev.offer().offer(), ev.offer().escalation());
      Request(TrayRequest::Of(TrayRequest::kLoadPresence));
      break;
    case v1::Event::kOfferClosed: {
      const v1::OfferClosed& c = ev.offer_closed();
      const bool shown = offers_.count(c.escalation_id()) > 0;
      CloseOffer(c.escalation_id(), c.offer_id());
      if (shown && c.reason() != "declined") {
        Notify(absl::StrCat("the offer of ", c.escalation_id(), " is gone: ", c.reason()));
      }
      Request(TrayRequest::Of(TrayRequest::kLoadPresence));
      break;
    }
    case v1::Event::kEscalationUpdated: {
      const v1::Escalation& e = ev.escalation_updated().escalation();
      RememberEscalation(e);
      auto it = offers_.find(e.id());
      if (it != offers_.end() &&
          (e.state() != v1::ESCALATION_STATE_OFFERED || OfferTo(e, me_) == nullptr)) {
        CloseOffer(e.id(), it->second.offer.offer_id());
      }
      if (e.state() != v1::ESCALATION_STATE_QUEUED) DropWaiting(e.id(), &waiting_);
      break;
    }
    case v1::Event::kWaitingChanged:
      ApplyWaitingChanged(ev.waiting_changed(), &waiting_);
      break;
    case v1::Event::kMessagePosted:
      AddMessage(ev.message_posted().message());
      break;
    case v1::Event::kMessageChanged: {
      const v1::Message& m = ev.message_changed().message();
      if (m.thread_id() == open_thread_) messages_[m.seq()] = m;
      break;
    }
    case v1::Event::kReadMarker: {
      const v1::ReadMarker& r = ev.read_marker();
      auto it = threads_.find(r.thread_id());
      if (r.person() == me_ && it != threads_.end()) {
        v1::Thread& t = it->second;
        t.set_read_seq(std::max(t.read_seq(), r.seq()));
        t.set_unread_count(std::max<int64_t>(0, t.last_seq() - t.read_seq()));
      }
      break;
    }
    case v1::Event::kTyping:
      if (ev.typing().person() != me_) {
        typing_[ev.typing().thread_id()] = {ev.typing().person(), TimeOf(ev.time())};
      }
      break;
    case v1::Event::kThreadChanged:
      MergeThread(ev.thread_changed().thread(), false);
      break;
    case v1::Event::kNotice:
      notice_ = ev.notice().text().empty() ? ev.notice().code() : ev.notice().text();
      notice_is_error_ = true;
      Request(TrayRequest::Of(TrayRequest::kLoadPresence));
      break;
    case v1::Event::kGap:
      Notify("some events were no longer kept on the server; reloaded");
      Request(TrayRequest::Of(TrayRequest::kReload));
      next_waiting_load_ = absl::InfinitePast();
      if (!open_thread_.empty())
        Request(TrayRequest::ForThread(TrayRequest::kLoadThread, open_thread_));
      break;
    case v1::Event::kPresenceChanged:
      SetPresence(ev.presence_changed().presence());
      break;
    default:
      break;
  }
}

void TrayModel::LoadThreads(const std::vector<v1::Thread>& threads) {
  for (const v1::Thread& t : threads) MergeThread(t, true);
  MarkOpenThreadRead();
}

void TrayModel::LoadOffers(const std::vector<v1::Escalation>& escalations) {
  for (const v1::Escalation& e : escalations) {
    RememberEscalation(e);
    if (e.state() != v1::ESCALATION_STATE_OFFERED) continue;
    if (const v1::Offer* o = OfferTo(e, me_)) AddOffer(*o, e);
  }
}

void TrayModel::LoadEscalations(const std::vector<v1::Escalation>& escalations) {
  for (const v1::Escalation& e : escalations) RememberEscalation(e);
}

void TrayModel::LoadWaiting(const std::vector<v1::WaitingEscalation>& waiting) {
  waiting_ = waiting;
  waiting_error_.clear();
}

void TrayModel::WaitingFailed(const absl::Status& error) {
  waiting_error_ = absl::AsciiStrToLower(absl::StatusCodeToString(error.code()));
}

void TrayModel::LoadMessages(const std::string& thread_id,
                             const std::vector<v1::Message>& messages) {
  if (thread_id != open_thread_) return;
  for (const v1::Message& m : messages) AddMessage(m);
  MarkOpenThreadRead();
}

void TrayModel::Accepted(const v1::Escalation& e) { BecameHelper(e, "accepted"); }

void TrayModel::Took(const v1::Escalation& e) {
  DropWaiting(e.id(), &waiting_);
  Request(TrayRequest::Of(TrayRequest::kLoadWaiting));  // the others' places moved up
  BecameHelper(e, "took");
}

void TrayModel::TakeFailed(const std::string& escalation_id, const absl::Status& error) {
  Failed(absl::StrCat("take ", escalation_id), error);
  Request(TrayRequest::Of(TrayRequest::kLoadWaiting));
}

void TrayModel::BecameHelper(const v1::Escalation& e, const std::string& verb) {
  RememberEscalation(e);
  auto it = offers_.find(e.id());
  CloseOffer(e.id(), it == offers_.end() ? "" : it->second.offer.offer_id());
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));
  if (e.thread_id().empty()) {
    Notify(absl::StrCat(verb, " ", e.id()));
    return;
  }
  if (threads_.count(e.thread_id()) == 0) {
    v1::Thread t;
    t.set_id(e.thread_id());
    t.set_kind(v1::THREAD_KIND_ESCALATION);
    t.set_escalation_id(e.id());
    t.add_participants(e.requester());
    t.add_participants(me_);
    MergeThread(t, false);
  }
  OpenThread(e.thread_id());
  Notify(absl::StrCat(verb, " ", e.id(), ": write to ", e.requester(), " below"));
}

void TrayModel::EscalationChanged(const v1::Escalation& e, const std::string& done) {
  RememberEscalation(e);
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));  // the load may have changed
  Notify(absl::StrCat(done, " ", e.id()));
}

void TrayModel::Declined(const v1::Escalation& e) {
  RememberEscalation(e);
  auto it = offers_.find(e.id());
  CloseOffer(e.id(), it == offers_.end() ? "" : it->second.offer.offer_id());
  Notify(absl::StrCat("declined ", e.id()));
  Request(TrayRequest::Of(TrayRequest::kLoadPresence));
}

void TrayModel::Posted(const v1::Message& m) {
  AddMessage(m);
  Notify("");
}

void TrayModel::Failed(const std::string& what, const absl::Status& error) {
  std::string message(error.message());
  if (std::string reason = TransportFailure(message); !reason.empty()) message = reason;
  if (message.empty()) message = absl::AsciiStrToLower(absl::StatusCodeToString(error.code()));
  std::string hint;
  if (error.code() == absl::StatusCode::kUnavailable ||
      error.code() == absl::StatusCode::kDeadlineExceeded) {
    hint = " (no connection to the server; try again when connected)";
  }
  notice_ = absl::StrCat(what, ": ", message, hint);
  notice_is_error_ = true;
}

void TrayModel::PostFailed(const std::string& text, const absl::Status& error) {
  if (input_.empty()) input_ = text;
  Failed("not sent", error);
}

void TrayModel::Notify(std::string text) {
  notice_ = std::move(text);
  notice_is_error_ = false;
}

void TrayModel::NotifyError(std::string text) {
  notice_ = std::move(text);
  notice_is_error_ = true;
}

// ---------- bookkeeping ----------

void TrayModel::Request(TrayRequest request) { requests_.push_back(std::move(request)); }

std::vector<TrayRequest> TrayModel::TakeRequests() {
  std::vector<TrayRequest> out;
  out.swap(requests_);
  return out;
}

void TrayModel::AddOffer(const v1::Offer& offer, const v1::Escalation& escalation) {
  if (closed_offers_.count(offer.offer_id()) > 0) return;
  offers_[escalation.id()] = PendingOffer{offer, escalation};
}

void TrayModel::CloseOffer(const std::string& escalation_id, const std::string& offer_id) {
  if (!offer_id.empty()) closed_offers_.insert(offer_id);
  auto it = offers_.find(escalation_id);
  if (it == offers_.end()) return;
  if (!offer_id.empty() && it->second.offer.offer_id() != offer_id) return;  // a newer offer
  offers_.erase(it);
}

void TrayModel::RememberEscalation(const v1::Escalation& e) {
  if (e.id().empty()) return;
  auto it = escalations_.find(e.id());
  if (it == escalations_.end() || it->second.version() <= e.version()) escalations_[e.id()] = e;
}

void TrayModel::MergeThread(const v1::Thread& in, bool counts_from_server) {
  auto it = threads_.find(in.id());
  if (it == threads_.end()) {
    v1::Thread t = in;
    if (!counts_from_server) t.set_read_seq(0);
    t.set_unread_count(std::max<int64_t>(0, t.last_seq() - t.read_seq()));
    threads_[in.id()] = std::move(t);
    return;
  }
  v1::Thread& t = it->second;
  const int64_t last_seq = std::max(t.last_seq(), in.last_seq());
  const int64_t read_seq =
      counts_from_server ? std::max(t.read_seq(), in.read_seq()) : t.read_seq();
  const google::protobuf::Timestamp activity =
      TimeOf(in.last_activity_time()) > TimeOf(t.last_activity_time()) ? in.last_activity_time()
                                                                       : t.last_activity_time();
  t = in;
  t.set_last_seq(last_seq);
  t.set_read_seq(read_seq);
  *t.mutable_last_activity_time() = activity;
  t.set_unread_count(std::max<int64_t>(0, last_seq - read_seq));
}

void TrayModel::AddMessage(const v1::Message& m) {
  auto it = threads_.find(m.thread_id());
  if (it == threads_.end()) {
    // A thread not heard of yet: counted from here, described by the next reload.
    v1::Thread t;
    t.set_id(m.thread_id());
    MergeThread(t, false);
    it = threads_.find(m.thread_id());
    Request(TrayRequest::Of(TrayRequest::kReload));
  }
  v1::Thread& t = it->second;
  if (m.seq() > t.last_seq()) t.set_last_seq(m.seq());
  if (TimeOf(m.create_time()) > TimeOf(t.last_activity_time())) {
    *t.mutable_last_activity_time() = m.create_time();
  }
  if (m.sender() == me_) t.set_read_seq(std::max(t.read_seq(), m.seq()));
  t.set_unread_count(std::max<int64_t>(0, t.last_seq() - t.read_seq()));
  if (m.thread_id() == open_thread_) {
    messages_[m.seq()] = m;
    typing_.erase(m.thread_id());
    MarkOpenThreadRead();
  }
}

void TrayModel::OpenThread(const std::string& thread_id) {
  open_thread_ = thread_id;
  selected_ = kThreadKey + thread_id;
  messages_.clear();
  scroll_ = 0;
  input_.clear();
  Request(TrayRequest::ForThread(TrayRequest::kLoadThread, thread_id));
  MarkOpenThreadRead();
}

void TrayModel::CloseThread() {
  selected_ = kThreadKey + open_thread_;
  open_thread_.clear();
  messages_.clear();
  scroll_ = 0;
}

// The open thread is on screen: what arrives there is read.
void TrayModel::MarkOpenThreadRead() {
  auto it = threads_.find(open_thread_);
  if (it == threads_.end()) return;
  v1::Thread& t = it->second;
  if (t.read_seq() >= t.last_seq()) return;
  t.set_read_seq(t.last_seq());
  t.set_unread_count(0);
  Request(TrayRequest::ForThread(TrayRequest::kMarkRead, t.id(), "", t.last_seq()));
}

void TrayModel::Tick(absl::Time now) {
  if (now >= next_waiting_load_) {
    Request(TrayRequest::Of(TrayRequest::kLoadWaiting));
    next_waiting_load_ = now + kWaitingRefresh;
  }
  for (auto it = offers_.begin(); it != offers_.end();) {
    if (TimeOf(it->second.offer.deadline()) + kLapsedOfferGrace < now) {
      closed_offers_.insert(it->second.offer.offer_id());
      it = offers_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------- the list and the selection ----------

std::vector<TrayModel::PendingOffer> TrayModel::Offers() const {
  std::vector<PendingOffer> out;
  for (const auto& [id, o] : offers_) out.push_back(o);
  std::stable_sort(out.begin(), out.end(), [](const PendingOffer& a, const PendingOffer& b) {
    return TimeOf(a.offer.deadline()) < TimeOf(b.offer.deadline());
  });
  return out;
}

std::vector<v1::WaitingEscalation> TrayModel::Waiting() const {
  std::vector<v1::WaitingEscalation> out;
  for (const v1::WaitingEscalation& w : waiting_) {
    if (offers_.count(w.escalation().id()) == 0) out.push_back(w);
  }
  return out;
}

std::vector<v1::Thread> TrayModel::Threads() const {
  std::vector<v1::Thread> out;
  for (const auto& [id, t] : threads_) out.push_back(t);
  std::stable_sort(out.begin(), out.end(), [](const v1::Thread& a, const v1::Thread& b) {
    return TimeOf(a.last_activity_time()) > TimeOf(b.last_activity_time());
  });
  return out;
}

std::vector<TrayModel::Item> TrayModel::Items() const {
  std::vector<Item> items;
  for (const PendingOffer& o : Offers()) {
    items.push_back({kOfferKey + o.escalation.id(), o.escalation.id(), Item::kOffer});
  }
  for (const v1::WaitingEscalation& w : Waiting()) {
    const std::string& id = w.escalation().id();
    items.push_back({kWaitingKey + id, id, Item::kWaiting});
  }
  for (const v1::Thread& t : Threads()) {
    items.push_back({kThreadKey + t.id(), t.id(), Item::kThread});
  }
  return items;
}

const TrayModel::Item* TrayModel::SelectedItem(const std::vector<Item>& items) const {
  for (const Item& i : items) {
    if (i.key == selected_) return &i;
  }
  return items.empty() ? nullptr : &items.front();
}

std::string TrayModel::selected() const {
  const std::vector<Item> items = Items();
  const Item* i = SelectedItem(items);
  return i == nullptr ? "" : i->key;
}

void TrayModel::MoveSelection(int delta) {
  const std::vector<Item> items = Items();
  const Item* current = SelectedItem(items);
  if (current == nullptr) return;
  const int index = static_cast<int>(current - items.data());
  const int next = std::clamp(index + delta, 0, static_cast<int>(items.size()) - 1);
  selected_ = items[static_cast<size_t>(next)].key;
}

const TrayModel::PendingOffer* TrayModel::TargetOffer() const {
  const std::vector<Item> items = Items();
  const Item* sel = SelectedItem(items);
  if (sel != nullptr && sel->kind == Item::kOffer) return &offers_.at(sel->id);
  const std::vector<PendingOffer> by_deadline = Offers();
  if (by_deadline.empty()) return nullptr;
  return &offers_.at(by_deadline.front().escalation.id());
}

std::string TrayModel::TargetWaiting() const {
  const std::vector<Item> items = Items();
  const Item* sel = SelectedItem(items);
  if (sel != nullptr && sel->kind == Item::kWaiting) return sel->id;
  const std::vector<v1::WaitingEscalation> waiting = Waiting();
  for (const v1::WaitingEscalation& w : waiting) {
    if (w.best_match()) return w.escalation().id();
  }
  return waiting.empty() ? "" : waiting.front().escalation().id();
}

// ---------- keys ----------

void TrayModel::HandleKey(const Key& key) {
  if (key.code == Key::kInterrupt) {
    quit_ = true;
    Request(TrayRequest::Of(TrayRequest::kQuit));
    return;
  }
  if (open_thread_.empty()) {
    ListKey(key);
  } else {
    ThreadKey(key);
  }
}

void TrayModel::ListKey(const Key& key) {
  switch (key.code) {
    case Key::kUp:
      return MoveSelection(-1);
    case Key::kDown:
      return MoveSelection(1);
    case Key::kPageUp:
      return MoveSelection(-kPageLines);
    case Key::kPageDown:
      return MoveSelection(kPageLines);
    case Key::kEnter:
    case Key::kTab: {
      const std::vector<Item> items = Items();
      const Item* sel = SelectedItem(items);
      if (sel == nullptr) return;
      if (sel->kind == Item::kOffer) return Notify("a accepts this offer, d declines it");
      if (sel->kind == Item::kWaiting) return Notify("t takes this escalation");
      return OpenThread(sel->id);
    }
    case Key::kEscape:
      return Notify("");
    case Key::kText:
      break;
    default:
      return;
  }
  const std::string& k = key.text;
  if (k == "k") return MoveSelection(-1);
  if (k == "j") return MoveSelection(1);
  if (k == "q") {
    quit_ = true;
    return Request(TrayRequest::Of(TrayRequest::kQuit));
  }
  if (k == "r") {
    Notify("reloading…");
    next_waiting_load_ = absl::InfinitePast();
    return Request(TrayRequest::Of(TrayRequest::kReload));
  }
  if (k == "t") {
    const std::string id = TargetWaiting();
    if (id.empty()) return Notify("nothing is waiting for you");
    Notify(absl::StrCat("taking ", id, "…"));
    TrayRequest r = TrayRequest::Of(TrayRequest::kTake);
    r.escalation_id = id;
    return Request(std::move(r));
  }
  if (k == "a" || k == "d") {
    const PendingOffer* o = TargetOffer();
    if (o == nullptr) return Notify(k == "a" ? "no offer to accept" : "no offer to decline");
    const bool accept = k == "a";
    Notify(absl::StrCat(accept ? "accepting " : "declining ", o->escalation.id(), "…"));
    return Request(TrayRequest::ForOffer(accept ? TrayRequest::kAccept : TrayRequest::kDecline,
                                         o->escalation.id(), o->offer.offer_id()));
  }
  for (const StatusKey& s : kStatusKeys) {
    if (k == s.key) {
      TrayRequest r = TrayRequest::Of(TrayRequest::kSetStatus);
      r.status = s.status;
      Notify(absl::StrCat("setting ", StatusWords(s.status), "…"));
      return Request(std::move(r));
    }
  }
}

void TrayModel::ThreadKey(const Key& key) {
  switch (key.code) {
    case Key::kEscape:
    case Key::kTab:
      return CloseThread();
    case Key::kEnter: {
      if (absl::StripAsciiWhitespace(input_).empty()) return;
      if (IsThreadCommand(input_)) return ThreadCommand();
      TrayRequest r =
          TrayRequest::ForThread(TrayRequest::kPost, open_thread_, MessageOfLine(input_));
      input_.clear();
      scroll_ = 0;
      Notify("sending…");
      return Request(std::move(r));
    }
    case Key::kBackspace:
      PopLastCodePoint(&input_);
      return;
    case Key::kUp:
      ++scroll_;
      return;
    case Key::kDown:
      scroll_ = std::max(0, scroll_ - 1);
      return;
    case Key::kPageUp:
      scroll_ += kPageLines;
      return;
    case Key::kPageDown:
      scroll_ = std::max(0, scroll_ - kPageLines);
      return;
    case Key::kText:
      input_ += key.text;
      return Request(TrayRequest::ForThread(TrayRequest::kTyping, open_thread_));
    default:
      return;
  }
}

void TrayModel::ThreadCommand() {
  auto command = ParseThreadCommand(input_);
  if (!command.ok()) return NotifyError(std::string(command.status().message()));
  auto thread = threads_.find(open_thread_);
  const std::string escalation = thread == threads_.end() ? "" : thread->second.escalation_id();
  if (escalation.empty()) {
    const std::string word = input_.substr(0, input_.find(' '));
    return NotifyError(absl::StrCat(word, ": this thread belongs to no escalation"));
  }
  TrayRequest r = TrayRequest::Of(TrayRequest::kResolve);
  r.escalation_id = escalation;
  r.thread_id = open_thread_;
  r.text = command->text;
  switch (command->kind) {
    case cli::ThreadCommand::kResolve:
      Notify(absl::StrCat("resolving ", escalation, "…"));
      break;
    case cli::ThreadCommand::kInvite:
      r.kind = TrayRequest::kInvite;
      Notify(absl::StrCat("inviting ", r.text, " into ", escalation, "…"));
      break;
    case cli::ThreadCommand::kTransfer:
      r.kind = TrayRequest::kTransfer;
      r.skills = command->skills;
      Notify(absl::StrCat("transferring ", escalation, "…"));
      break;
  }
  input_.clear();
  Request(std::move(r));
}

// ---------- rendering ----------

std::string TrayModel::TitleText() const {
  std::string title = absl::StrCat("Backline · ", me_);
  if (!presence_) return title;
  absl::StrAppend(&title, " · ", StatusWords(presence_->status()));
  if (!presence_->reason().empty()) absl::StrAppend(&title, " (", presence_->reason(), ")");
  absl::StrAppend(&title, " · load ", presence_->load(), "/", presence_->capacity());
  return title;
}

std::string TrayModel::ConnectionText(absl::Time now) const {
  if (!connection_) return "connecting…";
  switch (connection_->state) {
    case FeedState::kConnecting:
      return "connecting…";
    case FeedState::kConnected:
      return "connected";
    case FeedState::kReconnecting: {
      std::string text = absl::StrCat(
          "reconnecting (attempt ", connection_->attempt, ", ",
          absl::AsciiStrToLower(absl::StatusCodeToString(connection_->error.code())), ")");
      const absl::Duration wait = connection_->next_attempt - now;
      if (wait > absl::ZeroDuration()) {
        absl::StrAppend(&text, " in ", static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(wait))),
                        "s");
      }
      return text;
    }
    case FeedState::kStopped:
      return connection_->error.ok() ? "stopped"
                                     : absl::StrCat("stopped: ", connection_->error.message());
  }
  return "";
}

std::string TrayModel::OfferText(const PendingOffer& o, absl::Time now) const {
  const v1::Escalation& e = o.escalation;
  return absl::StrCat(e.id(), "  ", Countdown(SecondsLeft(o.offer.deadline(), now)), " left  ",
                      Question(e));
}

std::string TrayModel::WaitingText(const v1::WaitingEscalation& w, absl::Time now) const {
  const v1::Escalation& e = w.escalation();
  std::string text = e.id() + " ";
  // The place in the queue as it was when the list was read or the event was sent.
  if (e.queue_position() > 0) absl::StrAppend(&text, " #", e.queue_position());
  if (e.timeline().has_create_time()) {
    const double waited = absl::ToDoubleSeconds(now - TimeOf(e.timeline().create_time()));
    absl::StrAppend(&text, " waiting ", Countdown(waited <= 0 ? 0 : static_cast<int64_t>(waited)));
  }
  absl::StrAppend(&text, "  ", w.best_match() ? "best match  " : "", Question(e));
  return text;
}

std::string TrayModel::ThreadTitle(const v1::Thread& t) const {
  std::vector<std::string> others;
  for (const std::string& p : t.participants()) {
    if (p != me_) others.push_back(p);
  }
  const std::string with = others.empty() ? "" : absl::StrCat("with ", absl::StrJoin(others, ", "));
  switch (t.kind()) {
    case v1::THREAD_KIND_ESCALATION: {
      auto it = escalations_.find(t.escalation_id());
      if (it == escalations_.end()) return absl::StrCat(t.escalation_id(), "  ", with);
      const v1::Escalation& e = it->second;
      std::string text = t.escalation_id();
      if (e.state() != v1::ESCALATION_STATE_ACCEPTED)
        absl::StrAppend(&text, " ", StateWord(e.state()));
      absl::StrAppend(&text, "  ", e.requester(), ": ", OneLine(e.question()));
      return text;
    }
    case v1::THREAD_KIND_DIRECT:
      return absl::StrCat("direct  ", with);
    case v1::THREAD_KIND_TEAM:
      return absl::StrCat("team ", t.team());
    default:
      return with;
  }
}

std::string TrayModel::ThreadText(const v1::Thread& t) const {
  std::string unread = t.unread_count() > 0 ? absl::StrCat(t.unread_count(), " unread") : "";
  unread.resize(std::max<size_t>(unread.size(), 10), ' ');
  return absl::StrCat(t.id(), "  ", unread, ThreadTitle(t));
}

std::vector<Line> TrayModel::ListBody(absl::Time now, int width, int rows) const {
  const std::vector<Item> items = Items();
  const Item* sel = SelectedItem(items);
  std::vector<Line> lines;
  int selected_line = 0;
  auto item_line = [&](const Item& item, std::string text, bool urgent) {
    const bool is_sel = sel != nullptr && sel->key == item.key;
    if (is_sel) selected_line = static_cast<int>(lines.size());
    lines.push_back(
        {Fit(absl::StrCat(is_sel ? "> " : "  ", text), width),
         is_sel ? LineStyle::kSelected : (urgent ? LineStyle::kUrgent : LineStyle::kNormal)});
  };

  const std::vector<PendingOffer> offers = Offers();
  lines.push_back({Fit(absl::StrCat("Offers (", offers.size(), ")"), width), LineStyle::kSection});
  if (offers.empty()) {
    const bool available = presence_ && presence_->status() == v1::PRESENCE_STATUS_AVAILABLE;
    lines.push_back(
        {Fit(available ? "  none now" : "  none: offers come while you are available (1)", width)});
  }
  for (const PendingOffer& o : offers) {
    const Item item{kOfferKey + o.escalation.id(), o.escalation.id(), Item::kOffer};
    item_line(item, OfferText(o, now), SecondsLeft(o.offer.deadline(), now) <= 5);
  }
  lines.push_back({""});
  // Shown while something waits that the person could take (t).
  const std::vector<v1::WaitingEscalation> waiting = Waiting();
  if (!waiting.empty()) {
    std::string heading = absl::StrCat("Looking for help (", waiting.size(), ")");
    if (!waiting_error_.empty()) absl::StrAppend(&heading, " — not refreshed: ", waiting_error_);
    lines.push_back({Fit(heading, width), LineStyle::kSection});
    for (const v1::WaitingEscalation& w : waiting) {
      const std::string& id = w.escalation().id();
      item_line({kWaitingKey + id, id, Item::kWaiting}, WaitingText(w, now), false);
    }
    lines.push_back({""});
  }
  const std::vector<v1::Thread> threads = Threads();
  lines.push_back(
      {Fit(absl::StrCat("Threads (", threads.size(), ")"), width), LineStyle::kSection});
  if (threads.empty()) lines.push_back({"  none"});
  for (const v1::Thread& t : threads) {
    item_line({kThreadKey + t.id(), t.id(), Item::kThread}, ThreadText(t), false);
  }

  // Scroll so that the selection is on screen.
  const int total = static_cast<int>(lines.size());
  int first = 0;
  if (total > rows && selected_line >= rows)
    first = std::min(selected_line - rows + 1, total - rows);
  std::vector<Line> shown(lines.begin() + first, lines.begin() + std::min(total, first + rows));
  return shown;
}

std::vector<Line> TrayModel::ThreadBody(absl::Time now, int width, int rows) const {
  std::vector<Line> lines;
  const absl::TimeZone tz = absl::LocalTimeZone();

  const std::vector<PendingOffer> offers = Offers();
  if (offers.empty()) {
    lines.push_back({"No offers"});
  } else {
    const v1::Escalation& e = offers.front().escalation;
    std::string strip =
        absl::StrCat("Offer ", e.id(), " from ", e.requester(), ": ", OneLine(e.question()));
    if (offers.size() > 1) absl::StrAppend(&strip, "  (+", offers.size() - 1, " more)");
    absl::StrAppend(&strip, "  Esc, then a to accept");
    lines.push_back({Fit(strip, width), LineStyle::kUrgent});
  }

  std::string title = "── ";
  auto it = threads_.find(open_thread_);
  if (it != threads_.end()) {
    absl::StrAppend(&title, it->second.id(), "  ", ThreadTitle(it->second));
  } else {
    absl::StrAppend(&title, open_thread_);
  }
  if (auto t = typing_.find(open_thread_);
      t != typing_.end() && now - t->second.time < kTypingShown) {
    absl::StrAppend(&title, "  (", t->second.person, " is typing…)");
  }
  absl::StrAppend(&title, " ──");
  lines.push_back({Fit(title, width), LineStyle::kSection});

  const int message_rows = rows - static_cast<int>(lines.size());
  std::vector<std::string> text_lines;
  for (const auto& [seq, m] : messages_) {
    std::string head = absl::StrCat(absl::FormatTime("%H:%M ", TimeOf(m.create_time()), tz));
    std::string body;
    if (m.deleted()) {
      body = absl::StrCat(m.sender(), ": (deleted)");
    } else if (m.kind() == v1::MESSAGE_KIND_SYSTEM) {
      body = absl::StrCat("— ", m.text());
    } else if (m.kind() == v1::MESSAGE_KIND_KB_HIT) {
      body = absl::StrCat(m.sender(), ": [knowledge base] ", m.kb_hit().title(), " — ",
                          m.kb_hit().snippet(), " ", m.kb_hit().link());
    } else {
      body = absl::StrCat(m.sender(), ": ", m.text());
    }
    if (m.has_edit_time() && !m.deleted()) absl::StrAppend(&body, " (edited)");
    for (std::string& l : Wrap(head + body, width)) text_lines.push_back(std::move(l));
  }
  if (text_lines.empty()) text_lines.push_back("(no messages yet: type a reply, then Enter)");
  const int total = static_cast<int>(text_lines.size());
  const int scroll = std::clamp(scroll_, 0, std::max(0, total - message_rows));
  const int end = total - scroll;
  const int begin = std::max(0, end - message_rows);
  for (int i = begin; i < end; ++i) lines.push_back({text_lines[static_cast<size_t>(i)]});
  return lines;
}

Frame TrayModel::Render(absl::Time now, int width, int height) const {
  Frame frame;
  if (width < kMinWidth || height < kMinHeight) {
    frame.lines.assign(static_cast<size_t>(std::max(height, 0)), Line{});
    if (height > 0) {
      frame.lines[0] = {
          Fit(absl::StrCat("Backline tray: make the window at least ", kMinWidth, "x", kMinHeight),
              std::max(width - 1, 0)),
          LineStyle::kUrgent};
    }
    return frame;
  }
  frame.lines.push_back(
      {PadTo(LeftRight(TitleText(), ConnectionText(now), width), width), LineStyle::kTitle});
  const bool in_thread = !open_thread_.empty();
  const int body_rows = height - (in_thread ? 4 : 3);
  std::vector<Line> body =
      in_thread ? ThreadBody(now, width, body_rows) : ListBody(now, width, body_rows);
  body.resize(static_cast<size_t>(body_rows));
  for (Line& l : body) frame.lines.push_back(std::move(l));
  if (in_thread) {
    const std::string shown = Tail(input_, width - 3);
    frame.lines.push_back({absl::StrCat("> ", shown)});
    frame.cursor_row = static_cast<int>(frame.lines.size()) - 1;
    frame.cursor_col = 2 + DisplayWidth(shown);
  }
  frame.lines.push_back(
      {Fit(OneLine(notice_), width), notice_is_error_ ? LineStyle::kUrgent : LineStyle::kNormal});
  // The bottom right corner stays empty: writing there would scroll some terminals.
  frame.lines.push_back({PadTo(in_thread ? kThreadHelp : ListHelp(), width - 1), LineStyle::kHelp});
  return frame;
}

}  // namespace backline::cli::tray
