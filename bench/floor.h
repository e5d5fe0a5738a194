// The machine's own floor, measured in the same run as Backline: a Redis round trip (PING) and a
// gRPC unary round trip to the server under test (standard health Check, which does no work).
#pragma once

#include <string>

#include "bench/stats.h"
#include "services/store/redis_client.h"

namespace backline::bench {

struct Floor {
  Row redis_rtt;
  Row grpc_rtt;
};

Floor MeasureFloor(const store::RedisOptions& redis, const std::string& target, int n);

}  // namespace backline::bench
