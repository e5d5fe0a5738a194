#include "services/router/routing_worker.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "services/common/log.h"

namespace backline::router {
namespace {

// Longest sleep between looks at the deadlines; also bounds how late a deadline set by another
// instance is noticed.
constexpr absl::Duration kMaxDeadlineSleep = absl::Milliseconds(200);
// Every so often the queue head is routed again, in case a wake-up was missed (e.g. this
// instance was down when a helper became available).
constexpr absl::Duration kQueueSweepInterval = absl::Seconds(5);
constexpr size_t kMaxPendingTasks = 10000;

}  // namespace

RoutingWorker::RoutingWorker(Router* router, const store::RedisOptions& redis,
                             const store::Keys& keys)
    : router_(router), next_sweep_(absl::Now() + kQueueSweepInterval) {
  subscriber_ = std::make_unique<store::RedisSubscriber>(
      redis, std::vector<std::string>{keys.RoutingChannel()},
      [this](absl::string_view, absl::string_view message) { Enqueue(std::string(message)); },
      [this] { Enqueue("drain"); });
  wake_thread_ = std::thread([this] { WakeLoop(); });
  deadlines_ = std::make_unique<store::DueLoop>(
      &router_->timers(), router_->config().timer_lease, kMaxDeadlineSleep,
      [this](const std::string& member) { return router_->HandleTimer(member); },
      [this] {
        bool sweep = false;
        {
          absl::MutexLock lock(&mu_);
          if (absl::Now() >= next_sweep_) {
            next_sweep_ = absl::Now() + kQueueSweepInterval;
            sweep = true;
          }
        }
        if (sweep) Enqueue("drain");
      });
}

RoutingWorker::~RoutingWorker() {
  deadlines_.reset();
  subscriber_.reset();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  wake_thread_.join();
}

void RoutingWorker::Enqueue(std::string task) {
  absl::MutexLock lock(&mu_);
  if (tasks_.size() >= kMaxPendingTasks) {
    // Overwhelmed: replace the backlog by one full sweep, which covers every wake-up.
    tasks_.clear();
    tasks_.push_back("drain");
    return;
  }
  if (std::find(tasks_.begin(), tasks_.end(), task) == tasks_.end()) {
    tasks_.push_back(std::move(task));
  }
}

void RoutingWorker::WakeLoop() {
  while (true) {
    std::string task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RoutingWorker* w)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) { return w->stop_ || !w->tasks_.empty(); },
          this));
      if (stop_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    absl::string_view t = task;
    absl::Status st;
    if (absl::ConsumePrefix(&t, "available ")) {
      st = router_->OnHelperAvailable(t);
    } else if (absl::ConsumePrefix(&t, "unavailable ")) {
      st = router_->OnHelperUnavailable(t);
    } else if (absl::ConsumePrefix(&t, "on_call ")) {
      st = router_->OnHelperOnCall(t);
    } else {
      st = router_->DrainQueue(100);
    }
    if (!st.ok()) BL_LOG(WARNING) << "routing task \"" << task << "\": " << st;
  }
}

}  // namespace backline::router
