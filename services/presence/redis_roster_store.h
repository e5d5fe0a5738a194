// The roster in Redis: one hash per person, the `people` set, and the indexes by skill,
// language, team, site and role that routing and queries read instead of scanning everyone.
// A roster is applied as a whole, atomically, and only if nobody else changed it meanwhile.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backline/v1/roster.pb.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::presence {

class RedisRosterStore {
 public:
  RedisRosterStore(store::RedisClient* redis, const store::Keys* keys, store::EventLogConfig events,
                   const Clock* clock);

  // Validates `people` as a whole, computes the difference to the stored roster and, unless
  // `dry_run`, applies it in one atomic step. ABORTED if the roster kept changing underneath.
  absl::StatusOr<v1::ApplyRosterResponse> Apply(
      google::protobuf::RepeatedPtrField<v1::Person> people, bool dry_run);

  // NOT_FOUND when the person is not on the roster.
  absl::StatusOr<v1::Person> Get(absl::string_view id);

  // A person with the roster's stamp (Keys::RosterStamp) read in the same round trip, just
  // before the record: the record is that roster's or a later one's. A script that finds the
  // stamp unchanged knows the record is still current (every roster change sets a new one).
  struct VersionedPerson {
    v1::Person person;
    std::string roster_stamp;
  };
  absl::StatusOr<VersionedPerson> GetVersioned(absl::string_view id);

  // People matching every set filter of `request`, ordered by id, one page.
  absl::StatusOr<v1::ListPeopleResponse> List(const v1::ListPeopleRequest& request);

  // Several people in one round trip, in the order asked; ids not on the roster are left out.
  absl::StatusOr<std::vector<v1::Person>> GetMany(const std::vector<std::string>& ids);
  // Ids of everyone of a site or team.
  absl::StatusOr<std::vector<std::string>> SiteMembers(absl::string_view site);
  absl::StatusOr<std::vector<std::string>> TeamMembers(absl::string_view team);

 private:
  struct Snapshot {
    std::string version;
    std::map<std::string, v1::Person> people;
    bool free_indexes_ready = false;  // Keys::FreeIndexReady is set
  };
  absl::StatusOr<Snapshot> Load();
  absl::StatusOr<std::vector<std::string>> Members(const std::string& index_key);

  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;
};

}  // namespace backline::presence
