// backline-bench: Backline's own benchmark. Measures a running server and, in the same run, the
// machine's floor (Redis and gRPC round trips), and reports percentiles and ratios to the floor
// as a Markdown table (and JSON with --json_out).
//
//   backline-bench --target 127.0.0.1:7400 --redis 127.0.0.1:6379 --secret_file F presence
// Start it against an empty Redis: it applies its own roster. scripts/bench.sh does all of it.
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/floor.h"
#include "bench/presence_bench.h"
#include "services/common/token.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7400", "server under test");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379", "its Redis, for the floor");
ABSL_FLAG(std::string, secret_file, "", "the server's token signing secret");
ABSL_FLAG(std::string, json_out, "", "also write the figures as JSON to this file");
ABSL_FLAG(int, people, 5000, "roster size (presence)");
ABSL_FLAG(int, available, 1000, "people available (presence)");
ABSL_FLAG(double, seconds, 5, "how long each throughput figure runs");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("backline-bench [flags] presence");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2 || std::string(args[1]) != "presence") {
    std::cerr << "usage: backline-bench [flags] presence\n";
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
  backline::bench::Floor floor = backline::bench::MeasureFloor(*redis, target, 2000);
  std::vector<backline::bench::Row> rows = {floor.redis_rtt, floor.grpc_rtt};

  backline::bench::PresenceBenchOptions o;
  o.target = target;
  o.secret = *secret;
  o.people = absl::GetFlag(FLAGS_people);
  o.available = absl::GetFlag(FLAGS_available);
  o.change_for = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  for (auto& row : backline::bench::RunPresenceBench(o, floor.grpc_rtt.samples.QuantileMs(0.5))) {
    rows.push_back(std::move(row));
  }
  std::cout << backline::bench::MarkdownTable(rows);
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    std::ofstream(path) << backline::bench::Json(rows);
  }
  return 0;
}
