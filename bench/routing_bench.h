// Routing figures: escalation -> offer on the chosen helper's event stream, with many agents
// connected and escalations arriving at a steady rate; then the looking-for-help list that
// seniors' trays read while escalations wait, and the service level supervisors read.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/stats.h"

namespace backline::bench {

struct RoutingBenchOptions {
  std::string target;
  std::string secret;
  int agents = 2000;  // connected agents (each holds an event stream), who escalate
  int seniors = 200;  // connected helpers, who accept and resolve after a while
  double rate = 100;  // escalations per second
  absl::Duration duration = absl::Seconds(10);
  int waiting = 20;  // escalations left waiting afterwards, for the looking-for-help list
};

std::vector<Row> RunRoutingBench(const RoutingBenchOptions& options);

}  // namespace backline::bench
