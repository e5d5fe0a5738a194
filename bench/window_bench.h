// What reading a long window of escalations costs Redis: the service-level figures of a month
// (GetStats) read every escalation created in it. Seeds that many escalations through the
// escalation store under a key prefix of its own (deleted afterwards, so a deployment's keys
// are never touched), then reads the window as the router does — in pages — and, for
// comparison, in one pipeline (how it was read until 2026-12-02), while another client pings
// Redis: how long the whole read takes, and how long anyone else waits meanwhile.
#pragma once

#include <vector>

#include "bench/stats.h"
#include "services/store/redis_client.h"

namespace backline::bench {

struct WindowBenchOptions {
  store::RedisOptions redis;
  int escalations = 20000;  // created over the 31 days before now
  int reads = 10;           // of each way, alternating
};

std::vector<Row> RunWindowBench(const WindowBenchOptions& options);

}  // namespace backline::bench
