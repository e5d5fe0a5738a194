#include "services/chat/event_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/validation.h"
#include "services/common/wire.h"
#include "services/presence/watch_scope.h"

namespace backline::chat {
namespace {

// An event as announced on the channel, parsed once for all of the user's streams.
struct Announced {
  std::string cursor;
  std::string prev;
  v1::Event event;
};

v1::Event CaughtUpEvent(const std::string& cursor) {
  v1::Event ev;
  ev.mutable_caught_up()->set_cursor(cursor);
  return ev;
}

}  // namespace

class EventStreamReactor;

// The state of one Subscribe call. Shared between the gRPC reactor (until OnDone), the hub's
// registry and the fetch queue; all fields are guarded by mu_. The reactor's StartWrite and
// Finish are called under mu_: gRPC never runs a reaction inline from them.
class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  // `session` is empty for a stream that holds no presence session (an admin off the roster);
  // `watched` are the people whose presence changes it gets.
  EventStream(EventHub* hub, std::string user, std::string after, std::string session,
              std::vector<std::string> watched)
      : hub_(hub),
        user_(std::move(user)),
        session_(std::move(session)),
        watched_(std::move(watched)),
        cursor_(after == "0" ? "0-0" : std::move(after)) {}

  const std::string& user() const { return user_; }
  const std::string& session() const { return session_; }
  const std::vector<std::string>& watched() const { return watched_; }

  void Attach(EventStreamReactor* reactor) {
    absl::MutexLock lock(&mu_);
    reactor_ = reactor;
    need_fetch_ = true;
    MaybeFetch();
  }

  // A new event of this user was appended to the log.
  void OnNews(const std::shared_ptr<const Announced>& a) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!fetching_ && caught_up_ && a->prev == cursor_ &&
        pending_.size() < hub_->config_.max_pending) {
      Enqueue(a->event);
      cursor_ = a->cursor;
      MaybeWrite();
      return;
    }
    if (caught_up_ && !fetching_ && store::CompareCursors(a->cursor, cursor_) <= 0) return;
    need_fetch_ = true;
    MaybeFetch();
  }

  // An event that came from this stream's own desktop session (a post it has from the reply):
  // when the stream is keeping up, it moves past the event without sending it and returns
  // true. Otherwise it returns false, and the event is to be handled as any other (OnNews).
  bool SkipOwn(const std::string& cursor, const std::string& prev) {
    absl::MutexLock lock(&mu_);
    if (finished_) return true;
    if (fetching_ || !caught_up_ || prev != cursor_) return false;
    cursor_ = cursor;
    return true;
  }

  // An ephemeral event (typing): delivered if the client is keeping up, never logged, no cursor.
  void OnEphemeral(const v1::Event& event) {
    absl::MutexLock lock(&mu_);
    if (finished_ || !caught_up_ || pending_.size() >= hub_->config_.max_pending) return;
    Enqueue(event);
    MaybeWrite();
  }

  // Something may have been missed (the subscription was re-made): read the log again.
  void Resync() {
    absl::MutexLock lock(&mu_);
    need_fetch_ = true;
    MaybeFetch();
  }

  // Runs on a fetch thread.
  void Fetch(store::EventLog* log, int batch) {
    std::string from;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      from = cursor_;
    }
    if (from.empty()) {
      // Live only: start from the newest cursor.
      auto last = log->LastCursor(user_);
      absl::MutexLock lock(&mu_);
      fetching_ = false;
      if (!last.ok()) return FinishLocked(UnavailableStatus(last.status()));
      cursor_ = *last;
      caught_up_ = true;
      pending_.push_back(CaughtUpEvent(cursor_));
      MaybeWrite();
      MaybeFetch();
      return;
    }
    auto page = log->ReadAfter(user_, from, batch);
    absl::MutexLock lock(&mu_);
    fetching_ = false;
    if (finished_) return;
    if (!page.ok()) return FinishLocked(UnavailableStatus(page.status()));
    if (page->gap) {
      v1::Event gap;
      gap.mutable_gap()->set_after_cursor(from);
      pending_.push_back(std::move(gap));
      if (page->events.empty()) cursor_ = page->last_cursor;
    }
    for (store::StoredEvent& stored : page->events) {
      v1::Event ev;
      if (!ev.ParseFromString(stored.payload)) {
        BL_LOG(ERROR) << "event " << stored.cursor << " of " << user_ << " does not parse";
        continue;
      }
      ev.set_cursor(stored.cursor);
      Enqueue(std::move(ev));
      cursor_ = std::move(stored.cursor);
    }
    if (static_cast<int>(page->events.size()) == batch) {
      need_fetch_ = true;  // more after this page
    } else if (!caught_up_) {
      caught_up_ = true;
      pending_.push_back(CaughtUpEvent(cursor_));
    }
    MaybeWrite();
    MaybeFetch();
  }

  // Cuts the stream if its client has taken nothing for `stall` while events wait.
  void CheckStalled(absl::Time now, absl::Duration stall) {
    absl::MutexLock lock(&mu_);
    if (finished_ || !writing_ || (pending_.empty() && !need_fetch_)) return;
    if (now - write_started_ < stall) return;
    FinishLocked(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("reading too slowly: no event taken for ", absl::FormatDuration(stall),
                     " while more wait; subscribe again from the last cursor received")));
  }

  void OnWriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    MaybeWrite();
    MaybeFetch();
  }

  void Finish(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  // The reactor is going away: never touch it again. The desktop session outlives the stream
  // by the liveness timeout, so that a reconnect in time loses nothing.
  void Detach() {
    {
      absl::MutexLock lock(&mu_);
      reactor_ = nullptr;
      finished_ = true;
      pending_.clear();
    }
    hub_->Unregister(this);
    if (!session_.empty()) {
      absl::Status st = hub_->presence_->ReleaseStream(user_, session_, hub_->instance_);
      if (!st.ok()) BL_LOG(WARNING) << "releasing session of " << user_ << ": " << st;
    }
  }

 private:
  static grpc::Status UnavailableStatus(const absl::Status& st) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("event log unavailable (", st.message(),
                                     "); subscribe again with your last cursor"));
  }

  // Queues an event for the client. Someone removed from the roster gets the notice, then
  // their stream ends.
  void Enqueue(v1::Event event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (event.has_notice() && event.notice().code() == kRemovedFromRoster) {
      end_after_delivery_ = true;
    }
    pending_.push_back(std::move(event));
  }

  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void MaybeFetch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || fetching_ || !need_fetch_ || reactor_ == nullptr) return;
    // Stay behind in Redis rather than in memory while the client is slow.
    if (pending_.size() > hub_->config_.max_pending / 2) return;
    fetching_ = true;
    need_fetch_ = false;
    hub_->ScheduleFetch(shared_from_this());
  }

  EventHub* const hub_;
  const std::string user_;
  const std::string session_;
  const std::vector<std::string> watched_;
  absl::Mutex mu_;
  EventStreamReactor* reactor_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Cursor of the newest event queued for this stream ("" until known for a live-only start).
  std::string cursor_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::Event> pending_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  bool need_fetch_ ABSL_GUARDED_BY(mu_) = false;
  bool caught_up_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool end_after_delivery_ ABSL_GUARDED_BY(mu_) = false;
};

class EventStreamReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit EventStreamReactor(std::shared_ptr<EventStream> stream) : stream_(std::move(stream)) {}
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override {
    stream_->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    stream_->Detach();
    delete this;
  }

 private:
  std::shared_ptr<EventStream> stream_;
};

void EventStream::MaybeWrite() {
  if (end_after_delivery_ && pending_.empty() && !writing_) {
    return FinishLocked(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                     absl::StrCat("\"", user_, "\" is not on the roster")));
  }
  if (writing_ || finished_ || pending_.empty() || reactor_ == nullptr) return;
  SerializeToBuffer(pending_.front(), &in_flight_).IgnoreError();
  pending_.pop_front();
  writing_ = true;
  write_started_ = absl::Now();
  reactor_->StartWrite(&in_flight_);
}

void EventStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  pending_.clear();
  if (reactor_ != nullptr) reactor_->Finish(status);
}

EventHub::EventHub(const store::RedisOptions& redis, store::EventLog* log, const store::Keys& keys,
                   presence::RedisPresenceStore* presence, presence::RedisRosterStore* roster,
                   EventHubConfig config)
    : log_(log),
      presence_(presence),
      roster_(roster),
      presence_channel_(keys.PresenceChannel()),
      config_(config),
      instance_(NewServerId("chat")) {
  presence_->RenewInstance(instance_).IgnoreError();
  for (int i = 0; i < config_.fetch_threads; ++i) {
    fetchers_.emplace_back([this] { FetchLoop(); });
  }
  housekeeping_thread_ = std::thread([this] { HousekeepingLoop(); });
  subscriber_ = std::make_unique<store::RedisSubscriber>(
      redis, std::vector<std::string>{keys.EventChannel(), keys.PresenceChannel()},
      [this](absl::string_view channel, absl::string_view message) {
        if (channel == presence_channel_) {
          OnPresenceChanged(message);
        } else {
          OnAnnouncement(message);
        }
      },
      [this] { OnSubscribed(); });
}

EventHub::~EventHub() {
  subscriber_.reset();
  CloseAll();
  {
    absl::MutexLock lock(&fetch_mu_);
    stop_ = true;
    fetch_queue_.clear();
  }
  for (std::thread& t : fetchers_) t.join();
  housekeeping_thread_.join();
  presence_->DropInstance(instance_).IgnoreError();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* EventHub::Open(const Principal& caller,
                                                           std::string after_cursor,
                                                           std::string session) {
  if (session.empty()) session = NewServerId("stream");
  absl::Status attached = presence_->AttachStream(caller.id, session, instance_);
  if (absl::IsNotFound(attached) && caller.role == v1::ROLE_ADMIN) {
    session.clear();  // an admin off the roster has no presence to keep
  } else if (absl::IsNotFound(attached)) {
    return new RejectedStream(
        absl::PermissionDeniedError(absl::StrCat("\"", caller.id, "\" is not on the roster")));
  } else if (!attached.ok()) {
    return new RejectedStream(attached);
  }
  // Whose presence this desktop follows: the caller's own scope (site, team or mentor).
  auto watched = presence::ResolveWatchScope(*roster_, caller, v1::WatchPresenceRequest());
  auto stream = std::make_shared<EventStream>(
      this, caller.id, std::move(after_cursor), std::move(session),
      watched.ok() ? std::move(*watched) : std::vector<std::string>());
  auto* reactor = new EventStreamReactor(stream);
  {
    absl::MutexLock lock(&mu_);
    streams_[caller.id].push_back(stream);
    ++stream_count_;
    for (const std::string& p : stream->watched()) watchers_[p].push_back(stream.get());
  }
  stream->Attach(reactor);
  return reactor;
}

std::vector<std::shared_ptr<EventStream>> EventHub::AllStreams() const {
  std::vector<std::shared_ptr<EventStream>> all;
  absl::MutexLock lock(&mu_);
  for (const auto& [user, list] : streams_) all.insert(all.end(), list.begin(), list.end());
  return all;
}

void EventHub::HousekeepingLoop() {
  // Renew well within the liveness timeout, so that a late renewal never looks like a death.
  const absl::Duration renew_every = presence_->config().liveness_timeout / 3;
  // Every stream is looked at on each tick, so ticks are as rare as the two duties allow: a
  // stall is noticed within a quarter of its timeout, the lease renewed on time.
  const absl::Duration tick = std::min(renew_every, config_.stall_timeout / 4);
  absl::Time next_renewal = absl::Now() + renew_every;
  while (true) {
    {
      absl::MutexLock lock(&fetch_mu_);
      fetch_mu_.AwaitWithTimeout(absl::Condition(&stop_), tick);
      if (stop_) return;
    }
    const absl::Time now = absl::Now();
    for (const auto& s : AllStreams()) s->CheckStalled(now, config_.stall_timeout);
    if (now < next_renewal) continue;
    next_renewal = now + renew_every;
    auto lapsed = presence_->RenewInstance(instance_);
    if (!lapsed.ok() || !*lapsed) continue;
    // The lease had run out (Redis was away too long) and our people were checked: their
    // sessions may be gone, so attach every open stream again.
    BL_LOG(WARNING) << "lease of " << instance_ << " had lapsed; attaching its streams again";
    for (const auto& s : AllStreams()) {
      if (!s->session().empty()) {
        presence_->AttachStream(s->user(), s->session(), instance_).IgnoreError();
      }
    }
  }
}

void EventHub::CloseAll() {
  for (const auto& s : AllStreams()) {
    s->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "server shutting down; subscribe again with your last cursor"));
  }
}

size_t EventHub::open_streams() const {
  absl::MutexLock lock(&mu_);
  return stream_count_;
}

void EventHub::Unregister(const EventStream* stream) {
  absl::MutexLock lock(&mu_);
  for (const std::string& p : stream->watched()) {
    auto w = watchers_.find(p);
    if (w == watchers_.end()) continue;
    w->second.erase(std::remove(w->second.begin(), w->second.end(), stream), w->second.end());
    if (w->second.empty()) watchers_.erase(w);
  }
  auto it = streams_.find(stream->user());
  if (it == streams_.end()) return;
  auto& list = it->second;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].get() == stream) {
      list[i] = std::move(list.back());
      list.pop_back();
      --stream_count_;
      break;
    }
  }
  if (list.empty()) streams_.erase(it);
}

void EventHub::OnAnnouncement(absl::string_view message) {
  std::string user, origin;
  store::StoredEvent stored;
  if (!store::ParseEventAnnouncement(message, &user, &stored, &origin)) return;
  std::vector<std::shared_ptr<EventStream>> targets;
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(user);
    if (it == streams_.end()) return;  // nobody of this user is connected here
    targets = it->second;
  }
  if (!origin.empty() && !stored.cursor.empty()) {
    // The session the event came from has it already.
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const std::shared_ptr<EventStream>& s) {
                                   return s->session() == origin &&
                                          s->SkipOwn(stored.cursor, stored.prev);
                                 }),
                  targets.end());
    if (targets.empty()) return;
  }
  auto a = std::make_shared<Announced>();
  if (!a->event.ParseFromString(stored.payload)) return;
  if (stored.cursor.empty()) {
    for (const auto& s : targets) s->OnEphemeral(a->event);
    return;
  }
  a->event.set_cursor(stored.cursor);
  a->cursor = std::move(stored.cursor);
  a->prev = std::move(stored.prev);
  for (const auto& s : targets) s->OnNews(a);
}

void EventHub::OnPresenceChanged(absl::string_view person) {
  {
    absl::MutexLock lock(&mu_);
    if (watchers_.count(std::string(person)) == 0) return;  // nobody here watches them
  }
  absl::MutexLock lock(&fetch_mu_);
  if (!stop_) presence_changed_.emplace(person);
}

void EventHub::DeliverPresence(const std::vector<std::string>& people) {
  auto presences = presence_->GetMany(people);
  if (!presences.ok()) {
    BL_LOG(WARNING) << "reading changed presence: " << presences.status();
    return;
  }
  // Hold the streams we deliver to, so that none goes away meanwhile.
  for (const v1::Presence& p : *presences) {
    v1::Event ev = EventAt(absl::Now());
    *ev.mutable_presence_changed()->mutable_presence() = p;
    std::vector<std::shared_ptr<EventStream>> targets;
    {
      absl::MutexLock lock(&mu_);
      auto w = watchers_.find(p.person());
      if (w == watchers_.end()) continue;
      for (EventStream* s : w->second) targets.push_back(s->shared_from_this());
    }
    for (const auto& s : targets) s->OnEphemeral(ev);
  }
}

void EventHub::OnSubscribed() {
  for (const auto& s : AllStreams()) s->Resync();
}

void EventHub::ScheduleFetch(std::shared_ptr<EventStream> stream) {
  absl::MutexLock lock(&fetch_mu_);
  if (!stop_) fetch_queue_.push_back(std::move(stream));
}

void EventHub::FetchLoop() {
  while (true) {
    std::shared_ptr<EventStream> stream;
    std::vector<std::string> people;
    {
      absl::MutexLock lock(&fetch_mu_);
      fetch_mu_.Await(absl::Condition(
          +[](EventHub* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->fetch_mu_) {
            return h->stop_ || !h->fetch_queue_.empty() || !h->presence_changed_.empty();
          },
          this));
      if (stop_) return;
      if (!presence_changed_.empty()) {
        people.assign(presence_changed_.begin(), presence_changed_.end());
        presence_changed_.clear();
      } else {
        stream = std::move(fetch_queue_.front());
        fetch_queue_.pop_front();
      }
    }
    if (stream) {
      stream->Fetch(log_, config_.fetch_batch);
    } else {
      DeliverPresence(people);
    }
  }
}

}  // namespace backline::chat
