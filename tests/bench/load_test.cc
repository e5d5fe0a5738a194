// The real benchmark binaries against a real backline-server and Redis: backline-load plays the
// smoke scenario and reports every figure, the floor and the Redis round trips; backline-bench's
// month's window leaves Redis as it found it. What is checked is that the harness measures
// (counts, shapes, what happened), never how fast anything was.
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/server_process.h"

namespace backline::testing {
namespace {

using nlohmann::json;

// As scripts/bench.sh runs the server: sessions outlive the run, offers lapse after 5 s.
constexpr char kBenchConfig[] =
    R"({"presence": {"liveness_timeout_seconds": 600}, "redis_pool_size": 16,
        "routing": {"offer_timeout_seconds": 5}})";

json ReadJson(const std::string& path) {
  return json::parse(ReadWholeFile(path), nullptr, /*allow_exceptions=*/false);
}

// The row named `name` (exactly, or by prefix when `prefix`), or null.
json Row(const json& rows, const std::string& name, bool prefix = false) {
  for (const json& r : rows) {
    const std::string n = r.value("name", "");
    if (n == name || (prefix && absl::StartsWith(n, name))) return r;
  }
  return nullptr;
}

// Percentiles in order and not all zero: a row that measured something (its note, if any,
// starting with `note`).
void ExpectMeasured(const json& row, const std::string& note = "") {
  ASSERT_TRUE(row.is_object()) << "no such row";
  SCOPED_TRACE(row.dump());
  EXPECT_GT(row["n"].get<int>(), 0);
  EXPECT_GT(row["p50_ms"].get<double>(), 0);
  EXPECT_LE(row["p50_ms"].get<double>(), row["p90_ms"].get<double>());
  EXPECT_LE(row["p90_ms"].get<double>(), row["p99_ms"].get<double>());
  EXPECT_LE(row["p99_ms"].get<double>(), row["max_ms"].get<double>());
  if (note.empty()) {
    EXPECT_EQ(row["note"], "");
  } else {
    EXPECT_TRUE(absl::StartsWith(row["note"].get<std::string>(), note));
  }
}

class BenchBinariesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(server_.Start()); }

  std::string RedisAddress() const { return absl::StrCat("127.0.0.1:", redis_.port()); }
  std::string SecretFile() const { return dir_.path() + "/token.secret"; }
  std::string SlowlogThreshold() {
    const store::RedisReply r = redis_.Command({"CONFIG", "GET", "slowlog-log-slower-than"});
    return r.elements.size() == 2 ? r.elements[1].AsString() : "";
  }

  TempDir dir_{"backline-bench-test"};
  RedisServer redis_;  // its own: backline-load applies its roster to an empty Redis
  ServerProcess server_{BACKLINE_SERVER_PATH, dir_.path(), redis_.port(), kBenchConfig};
};

TEST_F(BenchBinariesTest, LoadPlaysTheSmokeScenarioAndReportsEveryFigureAgainstTheFloor) {
  const std::string report = dir_.path() + "/smoke.json";
  const std::string slowlog = SlowlogThreshold();
  const ProcessResult run = RunProcess(
      {BACKLINE_LOAD_PATH, "--target", server_.target(), "--redis", RedisAddress(), "--secret_file",
       SecretFile(), "--scenario", absl::StrCat(BACKLINE_SOURCE_DIR, "/bench/scenarios/smoke.json"),
       "--json_out", report, "--floor_samples", "200", "--round_trips", "5", "--servers",
       absl::StrCat("server=", server_.pid(), ",redis=", redis_.pid())},
      {}, "", absl::Minutes(3));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "| escalation -> offer on the helper's stream | "))
      << run.out;
  const json j = ReadJson(report);
  ASSERT_TRUE(j.is_object()) << "no JSON report";
  EXPECT_EQ(j["scenario"], "smoke");
  EXPECT_GT(j["measured_seconds"].get<double>(), 4);

  // The machine's floor, measured in the same run; the ratios are to it.
  ExpectMeasured(Row(j["floors"], "floor: Redis PING round trip"));
  ExpectMeasured(Row(j["floors"], "floor: gRPC unary round trip", /*prefix=*/true));
  ExpectMeasured(Row(j["floors"], "floor: gRPC server-stream push", /*prefix=*/true));
  const double floor_ms = j["floor_ms"].get<double>();
  EXPECT_NEAR(floor_ms,
              Row(j["floors"], "floor: Redis PING round trip")["p50_ms"].get<double>() +
                  Row(j["floors"], "floor: gRPC unary round trip", true)["p50_ms"].get<double>(),
              1e-9);

  // What people feel: each figure measured, as a ratio to the floor.
  for (const char* name : {"escalation -> offer on the helper's stream",
                           "accept -> the requester's stream shows it ACCEPTED (thread open)",
                           "post -> delivered (direct threads, 50/s paced)",
                           "escalate (the agent's round trip)", "post (the sender's round trip)"}) {
    const json row = Row(j["figures"], name);
    ExpectMeasured(row);
    if (row.is_object()) {
      EXPECT_NEAR(row["p50_over_floor"].get<double>() * row["floor_p50_ms"].get<double>(),
                  row["p50_ms"].get<double>(), 1e-9)
          << name;
    }
  }
  EXPECT_EQ(Row(j["figures"], "escalation -> offer on the helper's stream")["floor_p50_ms"],
            floor_ms);

  // What happened: people escalated, were offered, answered; every direct post arrived, and
  // nothing failed.
  const json& counts = j["counts"];
  EXPECT_GT(counts.value("escalations created", 0), 0) << counts.dump();
  EXPECT_GE(counts.value("offers received", 0), counts.value("offers accepted", 0));
  EXPECT_GT(counts.value("offers accepted", 0), 0) << counts.dump();
  EXPECT_GT(counts.value("direct messages posted", 0), 0) << counts.dump();
  EXPECT_EQ(counts.value("direct messages delivered", -1),
            counts.value("direct messages posted", 0));
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();

  // The CPU and memory over the window of the server, Redis and the generator itself.
  std::set<std::string> labels;
  for (const json& p : j["processes"]) {
    labels.insert(p["label"].get<std::string>());
    EXPECT_GT(p["rss_kib"].get<long>(), 0) << p.dump();
    EXPECT_GT(p["threads"].get<int>(), 0) << p.dump();
    EXPECT_GT(p["cpu_share_of_one_core"].get<double>(), 0) << p.dump();
  }
  EXPECT_EQ(labels, (std::set<std::string>{"server", "redis", "backline-load (this generator)"}));

  // Redis round trips per escalation, counted for real (the budget: at most 4 from the
  // call to the offer), and Redis's own time in the scripts of the path.
  for (const char* which : {"redis_round_trips", "redis_round_trips_first"}) {
    SCOPED_TRACE(which);
    const json& rt = j[which];
    ASSERT_TRUE(rt.is_object());
    EXPECT_EQ(rt["escalations"], 5);
    EXPECT_GE(rt["before_offer"].get<double>(), 2);
    EXPECT_LE(rt["before_offer"].get<double>(), 4);
    EXPECT_GE(rt["in_call"].get<double>(), rt["before_offer"].get<double>());
    EXPECT_GT(rt["reads_per_escalation"].get<double>(), 0);
  }
  EXPECT_EQ(j["redis_round_trips"]["timed_escalations"], 5);
  EXPECT_GT(j["redis_round_trips"]["timed_offer_ms"].get<double>(), 0);
  const json& scripts = j["redis_round_trips"]["script_times_ms"];
  for (const char* script : {"create_escalation", "select_candidates", "offer_escalation"}) {
    ASSERT_TRUE(scripts.contains(script)) << scripts.dump();
    EXPECT_GE(scripts[script]["runs_per_escalation"].get<double>(), 1) << script;
    EXPECT_GT(scripts[script]["median"].get<double>(), 0) << script;
  }
  // The timing pass put Redis's slow log back as it was.
  EXPECT_EQ(SlowlogThreshold(), slowlog);
}

TEST_F(BenchBinariesTest, WindowBenchReadsTheWholeMonthBothWaysAndLeavesRedisAsItWas) {
  const std::string before = redis_.Digest();
  const std::string report = dir_.path() + "/window.json";
  const ProcessResult run =
      RunProcess({BACKLINE_BENCH_PATH, "--target", server_.target(), "--redis", RedisAddress(),
                  "--secret_file", SecretFile(), "--window_escalations", "300", "--json_out",
                  report, "window"},
                 {}, "", absl::Minutes(2));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json rows = ReadJson(report);
  ASSERT_TRUE(rows.is_array()) << run.out;
  // Every read saw all 300 escalations (else the row's note says what a read saw instead).
  ExpectMeasured(Row(rows, "a month's window read in pages of 1024 (300 escalations)", true),
                 "the reader's heap grew by up to ");
  ExpectMeasured(Row(rows, "the same window in one pipeline", true),
                 "the reader's heap grew by up to ");
  ExpectMeasured(Row(rows, "meanwhile, another client's PING round trip"));
  // The seeded escalations were under their own prefix and are gone again.
  EXPECT_EQ(redis_.Digest(), before);
  EXPECT_TRUE(redis_.Command({"KEYS", "blbench-window-*"}).elements.empty());
}

}  // namespace
}  // namespace backline::testing
