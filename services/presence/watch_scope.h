// Whose presence someone may watch: supervisors the people of their site (or of any team of it),
// team leaders their team, everyone their mentor, admins anyone. Shared by WatchPresence and the
// presence events of the event stream.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backline/v1/presence.pb.h"
#include "services/common/principal.h"
#include "services/presence/redis_roster_store.h"

namespace backline::presence {

// The people `caller` asks to watch in `request` (their own scope when it names nobody), if they
// may watch them all: PERMISSION_DENIED otherwise, FAILED_PRECONDITION for someone with no
// scope (no mentor), RESOURCE_EXHAUSTED past 5,000 people.
absl::StatusOr<std::vector<std::string>> ResolveWatchScope(RedisRosterStore& roster,
                                                           const Principal& caller,
                                                           const v1::WatchPresenceRequest& request);

}  // namespace backline::presence
