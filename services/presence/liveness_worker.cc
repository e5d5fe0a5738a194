#include "services/presence/liveness_worker.h"

#include "services/common/log.h"

namespace backline::presence {

LivenessWorker::LivenessWorker(RedisPresenceStore* presence, store::DueQueue* checks)
    : presence_(presence) {
  // Checks are due at most a liveness timeout apart; look a few times per timeout.
  const absl::Duration max_sleep =
      std::min(absl::Milliseconds(250), presence_->config().liveness_timeout / 4);
  loop_ = std::make_unique<store::DueLoop>(
      checks, /*lease=*/absl::Seconds(5), max_sleep,
      [this](const std::string& person) { return presence_->CheckLiveness(person); },
      [this] {
        auto lapsed = presence_->LapsedInstances();
        if (!lapsed.ok()) return;
        for (const std::string& instance : *lapsed) {
          BL_LOG(WARNING) << "chat instance " << instance
                          << " stopped renewing its lease; checking its people";
          if (absl::Status st = presence_->InstanceGone(instance); !st.ok()) {
            BL_LOG(WARNING) << "instance " << instance << ": " << st;
          }
        }
      });
}

LivenessWorker::~LivenessWorker() = default;

}  // namespace backline::presence
