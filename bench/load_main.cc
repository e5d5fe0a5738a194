// backline-load: Backline under a contact centre's load. Runs a scenario file against a running
// Backline (all-in-one, or a split layout behind its front): connects the scenario's agents and
// seniors, each with an event stream of their own, lets them escalate, answer, chat and cancel,
// and reports percentiles of what people feel, throughput, errors, the servers' CPU and memory,
// the Redis round trips of one escalation, and the machine's floor measured in the same run —
// a Markdown report on stdout, and JSON with --json_out.
//
//   backline-load --target 127.0.0.1:7400 --redis 127.0.0.1:6379 --secret_file token.secret
//       --scenario bench/scenarios/escalations.json --servers server=4242,redis=4200
// Start it against an empty Redis: it applies its own roster. scripts/bench.sh does all of it.
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/load_run.h"
#include "services/common/token.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7400",
          "server under test, or the front of a split layout");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "its Redis (floor, round-trip count)");
ABSL_FLAG(std::string, secret_file, "", "the server's token signing secret");
ABSL_FLAG(std::string, scenario, "", "scenario file (JSON; see bench/scenarios/README.md)");
ABSL_FLAG(std::string, json_out, "", "also write the report as JSON to this file");
ABSL_FLAG(std::vector<std::string>, servers, {},
          "processes to report CPU and memory of, as label=pid,label=pid");
ABSL_FLAG(int, workers, 16, "threads that make the simulated people's calls");
ABSL_FLAG(int, channels, 20, "connections the event streams are spread over");
ABSL_FLAG(bool, feeds, false,
          "read event streams through the client library's EventFeed (two threads per person) "
          "instead of callback readers");
ABSL_FLAG(bool, echo, false,
          "posts name no desktop session, so that each also comes back on its sender's stream");
ABSL_FLAG(int, round_trips, 50,
          "escalations made one at a time under MONITOR to count Redis round trips (0: skip)");
ABSL_FLAG(int, floor_samples, 2000, "samples per floor figure");
ABSL_FLAG(std::string, push_floor_via, "",
          "a front that routes /backline.bench.Floor/ to --push_floor_port, to measure its cost");
ABSL_FLAG(int, push_floor_port, 0, "port of the in-process push floor server (0: any)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "backline-load --target HOST:PORT --redis HOST:PORT --secret_file F --scenario FILE");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex for lock cycles (its deadlock detection is on): a few per
  // cent of the generator's CPU that the machine under test needs more.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto scenario = backline::bench::LoadScenario(absl::GetFlag(FLAGS_scenario));
  if (!scenario.ok()) {
    std::cerr << "backline-load: " << scenario.status().message() << "\n";
    return 2;
  }
  auto secret = backline::LoadTokenSecret(absl::GetFlag(FLAGS_secret_file));
  if (!secret.ok()) {
    std::cerr << "backline-load: " << secret.status().message() << "\n";
    return 2;
  }
  auto redis = backline::store::ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!redis.ok()) {
    std::cerr << "backline-load: --redis: " << redis.status().message() << "\n";
    return 2;
  }
  backline::bench::LoadOptions o;
  o.target = absl::GetFlag(FLAGS_target);
  o.secret = *secret;
  o.redis = *redis;
  for (const std::string& s : absl::GetFlag(FLAGS_servers)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(s, absl::MaxSplits('=', 1));
    backline::bench::WatchedProcess w;
    w.label = kv.first;
    if (!absl::SimpleAtoi(kv.second, &w.pid) || w.pid <= 0) {
      std::cerr << "backline-load: --servers: \"" << s << "\" is not label=pid\n";
      return 2;
    }
    o.servers.push_back(w);
  }
  o.workers = std::max(1, absl::GetFlag(FLAGS_workers));
  o.channels = std::max(1, absl::GetFlag(FLAGS_channels));
  o.feeds = absl::GetFlag(FLAGS_feeds);
  o.echo = absl::GetFlag(FLAGS_echo);
  o.round_trip_escalations = absl::GetFlag(FLAGS_round_trips);
  o.floor_samples = std::max(100, absl::GetFlag(FLAGS_floor_samples));
  o.push_floor_via = absl::GetFlag(FLAGS_push_floor_via);
  o.push_floor_port = absl::GetFlag(FLAGS_push_floor_port);

  const backline::bench::LoadReport report = backline::bench::RunLoad(*scenario, o);
  std::cout << report.Markdown();
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    nlohmann::json j = report.ToJson();
    j["description"] = scenario->description;
    std::ofstream(path) << j.dump(2) << "\n";
  }
  return 0;
}
