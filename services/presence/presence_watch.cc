#include "services/presence/presence_watch.h"

#include <map>

#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/wire.h"

namespace backline::presence {

// One WatchPresence stream. Its fields are guarded by mu_; the hub calls Offer under the hub's
// mutex, and the watcher never takes the hub's mutex while holding its own.
class PresenceWatcher : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  PresenceWatcher(PresenceWatchHub* hub, std::vector<std::string> people)
      : hub_(hub), watched_(people.begin(), people.end()) {}

  const std::set<std::string>& watched() const { return watched_; }

  // Sends the snapshot (as the first update) and whatever changed since.
  void Start(std::vector<v1::Presence> snapshot) {
    absl::MutexLock lock(&mu_);
    for (v1::Presence& p : snapshot) pending_[p.person()] = std::move(p);
    snapshot_due_ = true;
    MaybeWrite();
  }

  void Offer(const v1::Presence& p) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    pending_[p.person()] = p;
    MaybeWrite();
  }

  void End(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    MaybeWrite();
  }
  void OnCancel() override { End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")); }
  void OnDone() override {
    hub_->Unregister(this);
    delete this;
  }

 private:
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Nothing goes out before the snapshot, and the snapshot goes out even if empty.
    if (writing_ || finished_ || (!snapshot_due_ && (pending_.empty() || !started_))) return;
    v1::PresenceUpdate update;
    update.set_snapshot(snapshot_due_);
    for (auto& [person, p] : pending_) *update.add_presence() = std::move(p);
    pending_.clear();
    snapshot_due_ = false;
    started_ = true;
    SerializeToBuffer(update, &in_flight_).IgnoreError();
    writing_ = true;
    StartWrite(&in_flight_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    pending_.clear();
    Finish(status);
  }

  PresenceWatchHub* const hub_;
  const std::set<std::string> watched_;
  absl::Mutex mu_;
  std::map<std::string, v1::Presence> pending_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer in_flight_ ABSL_GUARDED_BY(mu_);
  bool snapshot_due_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

PresenceWatchHub::PresenceWatchHub(const store::RedisOptions& redis, const store::Keys& keys,
                                   RedisPresenceStore* presence)
    : presence_(presence), worker_([this] { WorkLoop(); }) {
  subscriber_ = std::make_unique<store::RedisSubscriber>(
      redis, std::vector<std::string>{keys.PresenceChannel()},
      [this](absl::string_view, absl::string_view person) { OnChanged(person); },
      [this] {
        // Changes may have been missed while the subscription was down: read everyone again.
        absl::MutexLock lock(&mu_);
        resync_ = true;
      });
}

PresenceWatchHub::~PresenceWatchHub() {
  subscriber_.reset();
  CloseAll();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  worker_.join();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* PresenceWatchHub::Open(
    std::vector<std::string> people) {
  auto* watcher = new PresenceWatcher(this, people);
  {
    absl::MutexLock lock(&mu_);
    watchers_.insert(watcher);
  }
  auto snapshot = presence_->GetMany(people);
  if (!snapshot.ok()) {
    watcher->End(ToGrpcStatus(snapshot.status()));
    return watcher;
  }
  watcher->Start(std::move(*snapshot));
  // A change announced between registering and reading the snapshot may have been offered with
  // an older value than the snapshot's, or the other way round: read these people once more.
  absl::MutexLock lock(&mu_);
  changed_.insert(people.begin(), people.end());
  return watcher;
}

void PresenceWatchHub::CloseAll() {
  absl::MutexLock lock(&mu_);
  for (PresenceWatcher* w : watchers_) {
    w->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down; watch again"));
  }
}

void PresenceWatchHub::Unregister(PresenceWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

void PresenceWatchHub::OnChanged(absl::string_view person) {
  absl::MutexLock lock(&mu_);
  if (!watchers_.empty()) changed_.emplace(person);
}

void PresenceWatchHub::WorkLoop() {
  while (true) {
    std::vector<std::string> changed;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PresenceWatchHub* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->mu_) {
            return h->stop_ || !h->changed_.empty() || h->resync_;
          },
          this));
      if (stop_) return;
      std::set<std::string> wanted;
      for (PresenceWatcher* w : watchers_) {
        for (const std::string& p : w->watched()) {
          if (resync_ || changed_.count(p)) wanted.insert(p);
        }
      }
      changed_.clear();
      resync_ = false;
      changed.assign(wanted.begin(), wanted.end());
    }
    if (changed.empty()) continue;
    auto presences = presence_->GetMany(changed);
    if (!presences.ok()) {
      BL_LOG(WARNING) << "reading changed presence: " << presences.status();
      absl::MutexLock lock(&mu_);
      resync_ = true;  // try everyone again shortly
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(500));
      continue;
    }
    absl::MutexLock lock(&mu_);
    for (PresenceWatcher* w : watchers_) {
      for (const v1::Presence& p : *presences) {
        if (w->watched().count(p.person())) w->Offer(p);
      }
    }
  }
}

}  // namespace backline::presence
