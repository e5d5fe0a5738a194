// Presence in Redis: one hash per person (status, reason, since, load, offers, capacity,
// idle_since, missed, alive), the person's live desktop sessions, and the `offerable` index of
// everyone who may be offered work now. Every change is one script that updates the hash and
// the index together, so the index never disagrees with the hashes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backline/v1/presence.pb.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::presence {

struct PresenceConfig {
  // A desktop session that has not heartbeaten for this long is dropped.
  absl::Duration liveness_timeout = absl::Seconds(10);
};

// Someone who could be offered work now, as ranked by routing.
struct Candidate {
  std::string id;
  int proficiency = 0;  // in the weakest of the required skills
  int64_t idle_since_ms = 0;
};

// What an escalation needs of a helper.
struct HelperRequirements {
  std::vector<std::pair<std::string, int>> skills;  // skill -> minimum proficiency
  std::string language;                             // canonical tag; empty = any
  std::string exclude_person;                       // never this person (the requester)
  std::string excluded_set_key;                     // people in this set are skipped; "" = none
};

// Builds the Presence message from a presence hash as HGETALL returns it.
v1::Presence PresenceFromHash(absl::string_view person, const store::RedisReply& fields,
                              int sessions);

class RedisPresenceStore {
 public:
  RedisPresenceStore(store::RedisClient* redis, const store::Keys* keys,
                     store::EventLogConfig events, const Clock* clock, PresenceConfig config);

  // NOT_FOUND when the person is not on the roster.
  absl::StatusOr<v1::Presence> SetStatus(absl::string_view person, v1::PresenceStatus status,
                                         absl::string_view reason);
  absl::StatusOr<v1::Presence> Heartbeat(absl::string_view person, absl::string_view session);
  absl::StatusOr<v1::Presence> Get(absl::string_view person);

  // The best `limit` people who may be offered work now and meet `req`.
  absl::StatusOr<std::vector<Candidate>> SelectCandidates(const HelperRequirements& req, int limit);

  const PresenceConfig& config() const { return config_; }

 private:
  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;
  PresenceConfig config_;
};

}  // namespace backline::presence
