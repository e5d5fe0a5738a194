// Work that falls due at a time — offer deadlines, liveness checks — kept in a Redis sorted set
// so that it survives the instance that scheduled it, and a loop that claims and handles it.
//
// Any number of instances may run a DueLoop on the same queue: a claim leases each member to one
// instance (pushing it back by the lease), handling it removes or reschedules it, and a member
// whose claimer died comes due again when the lease runs out. Handlers must be idempotent.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"

namespace backline::store {

class DueQueue {
 public:
  DueQueue(RedisClient* redis, const Keys* keys, std::string key, const Clock* clock);

  // Claims up to `limit` members due now, each leased for `lease`.
  absl::StatusOr<std::vector<std::string>> Claim(absl::Duration lease, int limit);
  absl::Status Remove(absl::string_view member);
  // Schedules `member` (again) at `at`.
  absl::Status Schedule(absl::string_view member, absl::Time at);
  // Milliseconds until the next member is due (0 if one is due now), or -1 if none is queued.
  absl::StatusOr<int64_t> NextDueInMillis();

 private:
  RedisClient* redis_;
  const Keys* keys_;
  const std::string key_;
  const Clock* clock_;
};

class DueLoop {
 public:
  // Called for each claimed member; errors are logged and the member comes due again after the
  // lease.
  using Handler = std::function<absl::Status(const std::string& member)>;

  // Starts a thread that claims and handles due members of `queue`, sleeping until the next is
  // due (at most `max_sleep`, which also bounds how late work scheduled elsewhere is noticed).
  // `on_tick`, if given, runs on every turn of the loop.
  DueLoop(DueQueue* queue, absl::Duration lease, absl::Duration max_sleep, Handler handler,
          std::function<void()> on_tick = nullptr);
  // Stops the thread.
  ~DueLoop();

 private:
  void Run();

  DueQueue* queue_;
  const absl::Duration lease_;
  const absl::Duration max_sleep_;
  const Handler handler_;
  const std::function<void()> on_tick_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace backline::store
