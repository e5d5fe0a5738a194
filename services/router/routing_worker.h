// The router's background work on one instance: handles offer deadlines as they fall due, and
// reacts to routing wake-ups published by the scripts (a helper became available or left, the
// roster changed). Several instances may run at once: deadline claims are leased and every
// handler is idempotent.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/router/router.h"
#include "services/store/due_queue.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"

namespace backline::router {

class RoutingWorker {
 public:
  RoutingWorker(Router* router, const store::RedisOptions& redis, const store::Keys& keys);
  // Stops both threads.
  ~RoutingWorker();

 private:
  void WakeLoop();
  void Enqueue(std::string task);

  Router* router_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::string> tasks_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<store::RedisSubscriber> subscriber_;
  std::unique_ptr<store::DueLoop> deadlines_;
  std::thread wake_thread_;
};

}  // namespace backline::router
