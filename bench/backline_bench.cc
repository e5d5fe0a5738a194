// backline-bench: Backline's own benchmark. Measures a running server and, in the same run, the
// machine's floor (Redis and gRPC round trips), and reports percentiles and ratios to the floor
// as a Markdown table (and JSON with --json_out).
//
//   backline-bench --target 127.0.0.1:7400 --redis 127.0.0.1:6379 --secret_file F presence
//   backline-bench ... --server_pid PID messaging
//   backline-bench --redis 127.0.0.1:6379 --secret_file F window
// Start it against an empty Redis: it applies its own roster. scripts/bench.sh does all of it.
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/floor.h"
#include "bench/messaging_bench.h"
#include "bench/presence_bench.h"
#include "bench/routing_bench.h"
#include "bench/stream_floor.h"
#include "bench/window_bench.h"
#include "services/common/token.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7400", "server under test");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "its Redis, for the floor");
ABSL_FLAG(std::string, secret_file, "", "the server's token signing secret");
ABSL_FLAG(std::string, json_out, "", "also write the figures as JSON to this file");
ABSL_FLAG(int, people, 5000, "roster size (presence)");
ABSL_FLAG(int, available, 1000, "people available (presence)");
ABSL_FLAG(double, seconds, 5, "how long each throughput figure runs");
ABSL_FLAG(int, pairs, 200, "direct threads with a sender and a reader (messaging)");
ABSL_FLAG(double, rate, 2000, "messages per second (messaging)");
ABSL_FLAG(int, idle_streams, 10000, "idle event streams to open (messaging; 0: none)");
ABSL_FLAG(int, agents, 2000, "connected agents (routing)");
ABSL_FLAG(double, escalation_rate, 100, "escalations per second (routing)");
ABSL_FLAG(int, window_escalations, 20000,
          "escalations in the month's window, seeded under a prefix of their own (window)");
ABSL_FLAG(int, server_pid, 0, "the server's process id, for its memory and CPU (messaging)");

namespace {

std::vector<backline::bench::Row> Floors(const backline::store::RedisOptions& redis,
                                         const std::string& target, backline::bench::Floor* floor) {
  *floor = backline::bench::MeasureFloor(redis, target, 2000);
  return {floor->redis_rtt, floor->grpc_rtt, backline::bench::MeasureStreamEchoFloor(2000)};
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("backline-bench [flags] presence|messaging|routing|window");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string what = args.size() == 2 ? args[1] : "";
  if (what != "presence" && what != "messaging" && what != "routing" && what != "window") {
    std::cerr << "usage: backline-bench [flags] presence|messaging|routing|window\n";
    return 2;
  }
  auto secret = backline::LoadTokenSecret(absl::GetFlag(FLAGS_secret_file));
  if (!secret.ok()) {
    std::cerr << secret.status().message() << "\n";
    return 2;
  }
  auto redis = backline::store::ParseRedisAddress(absl::GetFlag(FLAGS_redis));
  if (!redis.ok()) {
    std::cerr << redis.status().message() << "\n";
    return 2;
  }
  const std::string target = absl::GetFlag(FLAGS_target);
  backline::bench::Floor floor;
  std::vector<backline::bench::Row> rows = Floors(*redis, target, &floor);
  const double grpc_p50 = floor.grpc_rtt.samples.QuantileMs(0.5);
  std::vector<backline::bench::Row> figures;
  if (what == "presence") {
    backline::bench::PresenceBenchOptions o;
    o.target = target;
    o.secret = *secret;
    o.people = absl::GetFlag(FLAGS_people);
    o.available = absl::GetFlag(FLAGS_available);
    o.change_for = absl::Seconds(absl::GetFlag(FLAGS_seconds));
    figures = backline::bench::RunPresenceBench(o, grpc_p50);
  } else if (what == "window") {
    backline::bench::WindowBenchOptions o;
    o.redis = *redis;
    o.escalations = absl::GetFlag(FLAGS_window_escalations);
    figures = backline::bench::RunWindowBench(o);
  } else if (what == "routing") {
    backline::bench::RoutingBenchOptions o;
    o.target = target;
    o.secret = *secret;
    o.agents = absl::GetFlag(FLAGS_agents);
    o.rate = absl::GetFlag(FLAGS_escalation_rate);
    o.duration = absl::Seconds(std::max(1.0, absl::GetFlag(FLAGS_seconds)));
    figures = backline::bench::RunRoutingBench(o);
    for (auto& row : figures) {
      if (row.samples.count() > 0) row.floor_p50_ms = grpc_p50;
    }
  } else {
    backline::bench::MessagingBenchOptions o;
    o.target = target;
    o.secret = *secret;
    o.pairs = absl::GetFlag(FLAGS_pairs);
    o.rate = absl::GetFlag(FLAGS_rate);
    o.duration = absl::Seconds(std::max(1.0, absl::GetFlag(FLAGS_seconds)));
    o.idle_streams = absl::GetFlag(FLAGS_idle_streams);
    o.server_pid = absl::GetFlag(FLAGS_server_pid);
    figures = backline::bench::RunMessagingBench(o);
    for (auto& row : figures) {
      if (row.samples.count() > 0) row.floor_p50_ms = grpc_p50;
    }
  }
  if (figures.empty()) {
    std::cerr << "backline-bench: " << what << ": nothing was measured\n";
    return 1;
  }
  for (auto& row : figures) rows.push_back(std::move(row));
  std::cout << backline::bench::MarkdownTable(rows);
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    std::ofstream(path) << backline::bench::Json(rows);
  }
  return 0;
}
