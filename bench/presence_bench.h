// Presence and roster figures: applying a large roster, "who is available" among many people,
// and presence changes per second.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/stats.h"

namespace backline::bench {

struct PresenceBenchOptions {
  std::string target;
  std::string secret;
  int people = 5000;
  int available = 1000;
  int who_calls = 2000;
  int threads = 8;
  absl::Duration change_for = absl::Seconds(5);
};

// Runs against a server with an empty Redis; returns one row per figure, with ratios to
// `grpc_floor_p50_ms` where a figure is one round trip.
std::vector<Row> RunPresenceBench(const PresenceBenchOptions& options, double grpc_floor_p50_ms);

}  // namespace backline::bench
