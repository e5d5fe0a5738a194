// Messaging figures: post -> delivered on the other participant's stream at a steady rate, and
// the server's memory and CPU with many idle event streams open.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/stats.h"

namespace backline::bench {

struct MessagingBenchOptions {
  std::string target;
  std::string secret;
  int pairs = 200;     // direct threads, one sender and one reader each
  double rate = 2000;  // messages per second, all senders together
  absl::Duration duration = absl::Seconds(10);
  int idle_streams = 10000;  // streams opened for the memory and CPU figures (0: skip)
  int server_pid = 0;        // for memory and CPU (0: skip those figures)
};

std::vector<Row> RunMessagingBench(const MessagingBenchOptions& options);

}  // namespace backline::bench
