// The machine's own floor, measured in the same run as Backline: a Redis round trip (PING) and a
// gRPC unary round trip to the server under test (standard health Check, which does no work).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "bench/stats.h"
#include "services/store/redis_client.h"

namespace backline::bench {

struct Floor {
  Row redis_rtt;
  Row grpc_rtt;
};

// `n` round trips of each, back to back — or `gap` apart, which lets the cores fall idle in
// between, as they do between one person's actions (waking an idle core is part of the cost).
Floor MeasureFloor(const store::RedisOptions& redis, const std::string& target, int n,
                   absl::Duration gap = absl::ZeroDuration());

}  // namespace backline::bench
