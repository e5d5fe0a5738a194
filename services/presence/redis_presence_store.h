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
  // A desktop session that has not heartbeaten for this long (or whose event stream closed this
  // long ago) is dropped; a person with no session left leaves routing and is shown OFFLINE.
  absl::Duration liveness_timeout = absl::Seconds(10);
  // A person whose desktop comes back within this long gets the status they had chosen back;
  // after it their status is OFFLINE.
  absl::Duration grace = absl::Seconds(60);
};

// Someone who could be offered work now, as ranked by routing.
struct Candidate {
  std::string id;
  int proficiency = 0;  // in the weakest of the required skills
  int64_t idle_since_ms = 0;
  int load = 0;          // help threads held and offers pending
  bool on_call = false;  // found in the on-call pool (ON_CALL, taking URGENT work by policy)
};

// What an escalation needs of a helper.
struct HelperRequirements {
  std::vector<std::pair<std::string, int>> skills;  // skill -> minimum proficiency
  std::string language;                             // canonical tag; empty = any
  std::string exclude_person;                       // never this person (the requester)
  std::string excluded_set_key;                     // people in this set are skipped; "" = none
  std::string scope_key;               // only members of this set (a team or site); "" = anyone
  std::vector<std::string> role_keys;  // only members of one of these role sets; none = any
  std::string only_person;             // only this person; "" = anyone
  // How to rank: best proficiency then longest idle; longest idle; least loaded then longest
  // idle; or round robin by id after the person in `round_robin_key`.
  enum class Ranking { kProficiency, kLongestIdle, kLeastLoaded, kRoundRobin };
  Ranking ranking = Ranking::kProficiency;
  std::string round_robin_key;  // for kRoundRobin: holds the last person offered
  bool on_call_pool = false;    // look among ON_CALL people instead of the offerable ones
};

// Builds the Presence message from a presence hash as HGETALL returns it.
v1::Presence PresenceFromHash(absl::string_view person, const store::RedisReply& fields,
                              int sessions);

class RedisPresenceStore {
 public:
  RedisPresenceStore(store::RedisClient* redis, const store::Keys* keys,
                     store::EventLogConfig events, const Clock* clock, PresenceConfig config);

  // Sets the status `person` chose. `by_self`: the person set it themselves, which is also a
  // sign of life. NOT_FOUND when the person is not on the roster.
  absl::StatusOr<v1::Presence> SetStatus(absl::string_view person, v1::PresenceStatus status,
                                         absl::string_view reason, bool by_self);
  // A heartbeat of one of the person's desktop sessions.
  absl::StatusOr<v1::Presence> Heartbeat(absl::string_view person, absl::string_view session);
  absl::StatusOr<v1::Presence> Get(absl::string_view person);
  // Presence of several people in one round trip; people without a presence hash are left out.
  absl::StatusOr<std::vector<v1::Presence>> GetMany(const std::vector<std::string>& people);

  // --- liveness of event streams, kept by the chat instance that serves them ---
  // A stream of `person` opened on chat instance `instance` as session `session`.
  absl::Status AttachStream(absl::string_view person, absl::string_view session,
                            absl::string_view instance);
  // The stream closed: the session lives on for the liveness timeout.
  absl::Status ReleaseStream(absl::string_view person, absl::string_view session,
                             absl::string_view instance);
  // Renews the instance's lease; true when it had lapsed (its streams must be attached again).
  absl::StatusOr<bool> RenewInstance(absl::string_view instance);
  // Drops the instance's lease (clean shutdown, after releasing its streams).
  absl::Status DropInstance(absl::string_view instance);

  // --- the liveness worker ---
  // Decides whether `person` is still there (see check_liveness.lua).
  absl::Status CheckLiveness(absl::string_view person);
  // Instances whose lease ran out, and handing their people to liveness checks.
  absl::StatusOr<std::vector<std::string>> LapsedInstances();
  absl::Status InstanceGone(absl::string_view instance);

  // The best `limit` people who may be offered work now and meet `req`.
  absl::StatusOr<std::vector<Candidate>> SelectCandidates(const HelperRequirements& req, int limit);
  // SelectCandidates for each of `reqs`, in one round trip; answers in the order of `reqs`.
  absl::StatusOr<std::vector<absl::StatusOr<std::vector<Candidate>>>> SelectCandidatesMany(
      const std::vector<HelperRequirements>& reqs, int limit);
  // SelectCandidates as a script call to send in one round trip with others
  // (RedisClient::EvalMany; `req` has skills), and its reply read back.
  store::RedisClient::ScriptInvocation SelectionInvocation(const HelperRequirements& req,
                                                           int limit);
  static absl::StatusOr<std::vector<Candidate>> SelectionResult(
      const absl::StatusOr<store::RedisReply>& reply, const HelperRequirements& req);

  const PresenceConfig& config() const { return config_; }

 private:
  absl::StatusOr<v1::Presence> Touch(absl::string_view person, absl::string_view session,
                                     const std::string& value, int64_t check_at,
                                     absl::string_view instance);
  store::ScriptCall NewCall() const;
  store::ScriptCall SelectionCall(const HelperRequirements& req, int limit);

  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;
  PresenceConfig config_;
};

}  // namespace backline::presence
