#include "services/store/due_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/store/script_call.h"
#include "services/store/store_lua.h"

namespace backline::store {
namespace {

constexpr int kBatch = 64;

BL_DEFINE_SCRIPT(ClaimScript, kClaimDueLua)

}  // namespace

DueQueue::DueQueue(RedisClient* redis, const Keys* keys, std::string key, const Clock* clock)
    : redis_(redis), keys_(keys), key_(std::move(key)), clock_(clock) {}

absl::StatusOr<std::vector<std::string>> DueQueue::Claim(absl::Duration lease, int limit) {
  ScriptCall call(*keys_, EventLogConfig{}, clock_->NowMillis());
  call.Key(key_);
  call.Arg(absl::ToInt64Milliseconds(lease));
  call.Arg(static_cast<int64_t>(limit));
  auto reply = call.Run(*redis_, ClaimScript());
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const auto& e : reply->elements) out.push_back(e.str);
  return out;
}

absl::Status DueQueue::Remove(absl::string_view member) {
  return redis_->Command({"ZREM", key_, member}).status();
}

absl::Status DueQueue::Schedule(absl::string_view member, absl::Time at) {
  return redis_->Command({"ZADD", key_, absl::StrCat(absl::ToUnixMillis(at)), member}).status();
}

absl::StatusOr<int64_t> DueQueue::NextDueInMillis() {
  auto reply = redis_->Command({"ZRANGE", key_, "0", "0", "WITHSCORES"});
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() < 2) return -1;
  return std::max<int64_t>(0, reply->elements[1].AsInteger() - clock_->NowMillis());
}

DueLoop::DueLoop(DueQueue* queue, absl::Duration lease, absl::Duration max_sleep, Handler handler,
                 std::function<void()> on_tick)
    : queue_(queue),
      lease_(lease),
      max_sleep_(max_sleep),
      handler_(std::move(handler)),
      on_tick_(std::move(on_tick)),
      thread_([this] { Run(); }) {}

DueLoop::~DueLoop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void DueLoop::Run() {
  while (true) {
    absl::Duration sleep = max_sleep_;
    auto due = queue_->Claim(lease_, kBatch);
    if (due.ok()) {
      for (const std::string& member : *due) {
        if (absl::Status st = handler_(member); !st.ok()) {
          BL_LOG(WARNING) << "handling " << member << ": " << st;
        }
      }
      if (static_cast<int>(due->size()) == kBatch) sleep = absl::ZeroDuration();
      auto next = queue_->NextDueInMillis();
      if (next.ok() && *next >= 0) sleep = std::min(sleep, absl::Milliseconds(*next));
    } else {
      BL_LOG(WARNING) << "claiming due work: " << due.status();
      sleep = std::max(sleep, absl::Milliseconds(500));
    }
    if (on_tick_) on_tick_();
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    mu_.AwaitWithTimeout(absl::Condition(&stop_), sleep);
    if (stop_) return;
  }
}

}  // namespace backline::store
