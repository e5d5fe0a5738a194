// Threads in Redis: a hash per thread (kind, escalation, created, last_seq), its participants,
// its messages by sequence number, and the client message ids already stored. A post is one
// script that checks the thread is still as read (sequence, participants), stores the message
// and appends it to every participant's event log — or returns the message a retried post with
// the same client message id stored before.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backline/v1/common.pb.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::chat {

class RedisThreadStore {
 public:
  RedisThreadStore(store::RedisClient* redis, const store::Keys* keys, store::EventLogConfig events,
                   const Clock* clock);

  // NOT_FOUND when there is no such thread.
  absl::StatusOr<v1::Thread> Get(absl::string_view thread_id);

  // Stores `message` (thread, sender, kind, text, client id set; seq and time are assigned) and
  // delivers it. `*duplicate` is set when a stored message with the same client id is returned.
  absl::StatusOr<v1::Message> Post(v1::Message message, bool* duplicate);

  // Messages with after_seq < seq < before_seq (before_seq 0 = no bound): the first `limit`
  // of them, or with `newest` the last `limit`; ascending either way.
  absl::StatusOr<std::vector<v1::Message>> List(absl::string_view thread_id, int64_t after_seq,
                                                int64_t before_seq, int limit, bool newest);

 private:
  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;
};

}  // namespace backline::chat
