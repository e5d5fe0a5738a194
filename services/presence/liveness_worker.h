// The presence service's background work on one instance: runs the liveness checks that fall
// due (a heartbeat expired, a released stream was not resumed, a grace period ended) and notices
// chat instances that stopped renewing their lease. Any number of presence instances may run
// it; checks are claimed with a lease and are idempotent.
#pragma once

#include <memory>

#include "services/presence/redis_presence_store.h"
#include "services/store/due_queue.h"

namespace backline::presence {

class LivenessWorker {
 public:
  LivenessWorker(RedisPresenceStore* presence, store::DueQueue* checks);
  ~LivenessWorker();

 private:
  RedisPresenceStore* presence_;
  std::unique_ptr<store::DueLoop> loop_;
};

}  // namespace backline::presence
