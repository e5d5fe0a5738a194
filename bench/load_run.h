// backline-load's simulation: connects a scenario's agents and seniors (each with an event
// stream of their own), lets them behave as the scenario says — agents escalate at a rate, chat
// once a senior accepted, sometimes cancel; seniors accept after a delay, decline or ignore —
// and measures what people would feel (escalation -> offer, accept -> thread open, post ->
// delivered), the calls' round trips, throughput and errors, the processes' CPU and memory,
// and, in the same run, the machine's floor and the Redis round trips of one escalation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bench/proc_stats.h"
#include "bench/redis_round_trips.h"
#include "bench/scenario.h"
#include "bench/stats.h"
#include "nlohmann/json.hpp"
#include "services/store/redis_client.h"

namespace backline::bench {

struct WatchedProcess {
  std::string label;
  int pid = 0;
};

struct LoadOptions {
  std::string target;  // the server, or the front of a split layout
  std::string secret;  // the token signing secret (the run applies its own roster as admin)
  store::RedisOptions redis;
  std::vector<WatchedProcess> servers;  // processes whose CPU and memory are reported
  int workers = 16;                     // threads making the people's calls (blocking unary calls)
  int channels = 20;                    // connections the event streams are spread over
  // Event streams through the client library's EventFeed (a Client and two threads per person)
  // instead of callback readers on a few connections (no thread per stream).
  bool feeds = false;
  // Posts name no session, so that each comes back on its sender's stream too (as for a desktop
  // that does not show its posts from the reply). By default they name the sender's.
  bool echo = false;
  int round_trip_escalations = 50;  // escalations made alone to count Redis round trips (0: skip)
  int floor_samples = 2000;
  // A front that routes /backline.bench.Floor/ to 127.0.0.1:push_floor_port, to measure the
  // push floor through it too ("" and 0: only directly).
  std::string push_floor_via;
  int push_floor_port = 0;
};

struct LoadReport {
  std::string scenario;
  std::string target;
  std::string stream_mode;
  double floor_ms = 0;  // gRPC unary round trip + Redis round trip (medians)
  std::vector<Row> floors;
  std::vector<Row> figures;
  double measured_seconds = 0;
  std::map<std::string, long> counts;                         // what happened, by name
  std::map<std::string, std::map<std::string, long>> errors;  // call -> gRPC code -> count
  std::vector<ProcessUsage> processes;                        // servers, then the generator
  // The whole machine over the window: CPU used by every process, in cores (of `cores`).
  double machine_busy_cores = 0;
  // Of it, the hypervisor's steal: time the cores ran other machines (the kernel charges part
  // of it to whatever process was running, so it overlaps the processes' own CPU).
  double machine_steal_cores = 0;
  int cores = 0;
  Row lag{"generator: how late actions ran after their time"};
  bool counted_round_trips = false;
  RoundTripReport round_trips;        // each requester's next escalation (record cached)
  RoundTripReport first_round_trips;  // each requester's first since the roster was applied

  nlohmann::json ToJson() const;
  std::string Markdown() const;
};

LoadReport RunLoad(const Scenario& scenario, const LoadOptions& options);

}  // namespace backline::bench
