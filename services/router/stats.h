// Service-level figures, free of storage: counts and time-to-offer / time-to-accept percentiles
// of the escalations created in a window, in total, per first required skill and per team.
#pragma once

#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/escalations.pb.h"

namespace backline::router {

// `escalations` may hold any; those created outside [from, to] or of another site (when `site`
// is not empty) are left out.
v1::Stats ComputeStats(const std::vector<v1::Escalation>& escalations, absl::Time from,
                       absl::Time to, absl::string_view site);

}  // namespace backline::router
