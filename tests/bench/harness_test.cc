// The benchmark harness's own logic, on made-up inputs: percentiles, the scenario files, the
// reading of MONITOR's feed and the round-trip count built on it (the "Redis round trips per
// escalation" figure), and the script-time summary.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bench/redis_round_trips.h"
#include "bench/scenario.h"
#include "bench/stats.h"

namespace backline::bench {
namespace {

TEST(SamplesTest, PercentilesAreNearestRank) {
  Samples s;
  EXPECT_EQ(s.QuantileMs(0.5), 0);
  for (int ms = 100; ms >= 1; --ms) s.Add(absl::Milliseconds(ms));  // out of order on purpose
  EXPECT_DOUBLE_EQ(s.QuantileMs(0.5), 50);
  EXPECT_DOUBLE_EQ(s.QuantileMs(0.9), 90);
  EXPECT_DOUBLE_EQ(s.QuantileMs(0.99), 99);
  EXPECT_DOUBLE_EQ(s.QuantileMs(0), 1);
  EXPECT_DOUBLE_EQ(s.MaxMs(), 100);
  Samples more;
  more.Add(absl::Milliseconds(1000));
  s.Merge(more);
  EXPECT_EQ(s.count(), 101u);
  EXPECT_DOUBLE_EQ(s.MaxMs(), 1000);
  EXPECT_DOUBLE_EQ(s.QuantileMs(0.5), 51);
}

TEST(SamplesTest, ARowCarriesItsRatioToTheFloor) {
  Row r("escalation -> offer");
  for (int ms = 1; ms <= 4; ++ms) r.samples.Add(absl::Milliseconds(ms));
  r.floor_p50_ms = 0.5;
  const nlohmann::json j = RowJson(r);
  EXPECT_EQ(j["n"], 4);
  EXPECT_DOUBLE_EQ(j["p50_ms"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(j["p50_over_floor"].get<double>(), 4);
  EXPECT_NE(MarkdownTable({r}).find("| escalation -> offer | 4 | 2.000 |"), std::string::npos);
  Row empty("nothing measured");
  EXPECT_FALSE(RowJson(empty).contains("p50_over_floor"));
}

TEST(ScenarioTest, TheShippedScenariosLoadAndKeysLeftOutKeepTheirDefaults) {
  for (const char* name : {"smoke", "escalations", "chat", "idle"}) {
    auto s = LoadScenario(absl::StrCat(BACKLINE_SOURCE_DIR, "/bench/scenarios/", name, ".json"));
    ASSERT_TRUE(s.ok()) << name << ": " << s.status();
    EXPECT_EQ(s->name, name);
  }
  auto smoke = LoadScenario(absl::StrCat(BACKLINE_SOURCE_DIR, "/bench/scenarios/smoke.json"));
  ASSERT_TRUE(smoke.ok());
  EXPECT_EQ(smoke->agents.count, 50);
  EXPECT_EQ(smoke->seniors.answer_after.min, 100);
  EXPECT_EQ(smoke->seniors.answer_after.max, 500);
  EXPECT_DOUBLE_EQ(smoke->seniors.accept_probability, 0.85);  // not in the file
  EXPECT_TRUE(smoke->poisson);
  EXPECT_EQ(smoke->direct_chat.deadline_ms, 5000);
  auto tight = ParseScenario(R"({"name": "x", "direct_chat": {"deadline_ms": 250}})");
  ASSERT_TRUE(tight.ok()) << tight.status();
  EXPECT_EQ(tight->direct_chat.deadline_ms, 250);
}

TEST(ScenarioTest, MistakesAreRefusedNamingTheKey) {
  struct Case {
    const char* json;
    const char* names;
  } cases[] = {
      {R"({"name": "x", "agents": {"cuont": 10}})", "agents.cuont"},
      {R"({"name": "x", "durations_seconds": 10})", "durations_seconds"},
      {R"({"agents": {"count": 10}})", "name"},
      {R"({"name": "x", "seniors": {"accept_probability": 0.9, "decline_probability": 0.2}})",
       "seniors"},
      {R"({"name": "x", "seniors": {"answer_after_ms": [500, 100]}})", "seniors.answer_after_ms"},
      {R"({"name": "x", "arrivals": "bursty"})", "arrivals"},
      {R"({"name": "x", "direct_chat": {"deadline_ms": 0}})", "direct_chat.deadline_ms"},
      {R"({"name": "x", "skills": {"billing": 0}})", "skills.billing"},
      {R"({"name": "x", )", "JSON"},
  };
  for (const Case& c : cases) {
    auto s = ParseScenario(c.json);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(s.status().message().find(c.names), absl::string_view::npos)
        << c.json << " -> " << s.status().message();
  }
  // Comments are allowed.
  EXPECT_TRUE(ParseScenario("// a comment\n{\"name\": \"x\"}").ok());
}

TEST(MonitorFeedTest, LinesAreReadAsRedisWritesThem) {
  MonitoredCommand c;
  ASSERT_TRUE(ParseMonitorLine(
      R"(+1700000000.123456 [0 127.0.0.1:5000] "HSET" "bl:esc:1" "q" "f\xc3\xb8r \"x\"\n")", &c));
  EXPECT_EQ(c.at, absl::FromUnixMicros(1700000000123456));
  EXPECT_EQ(c.client, "127.0.0.1:5000");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"HSET", "bl:esc:1", "q", "f\xc3\xb8r \"x\"\n"}));
  ASSERT_TRUE(ParseMonitorLine(R"(+1700000000.000001 [0 lua] "GET" "k")", &c));
  EXPECT_EQ(c.client, "lua");
  EXPECT_FALSE(ParseMonitorLine("+OK", &c));
  EXPECT_FALSE(ParseMonitorLine("", &c));
}

// The SHA1 EVALSHA names a script by.
std::string Sha(const std::string& script) {
  for (const auto& [sha, name] : KnownScripts()) {
    if (name == script) return sha;
  }
  ADD_FAILURE() << "no script " << script;
  return "";
}

class RoundTripCountTest : public ::testing::Test {
 protected:
  // A command `ms` milliseconds after t0.
  void At(double ms, const std::string& client, std::vector<std::string> argv) {
    commands_.push_back({t0_ + absl::Microseconds(ms * 1000), client, std::move(argv)});
  }

  const absl::Time t0_ = absl::FromUnixSeconds(1700000000);
  std::vector<MonitoredCommand> commands_;
};

TEST_F(RoundTripCountTest, PipelinesAreOneRoundTripAndBackgroundIsLeftOut) {
  const std::string router = "127.0.0.1:41000", timers = "127.0.0.1:41001";
  // Nothing happening: the timer poll is the services' own background.
  At(100, timers, {"ZRANGE", "bl:timers", "0", "0"});
  At(100.02, "127.0.0.1:41002", {"INFO", "stats"});  // the benchmark's own reading
  // One escalation, from 2,000 ms: the create script and the ranking in one pipeline (the
  // second sent 10 us after the first one's last command), the offer script, one more read
  // before the call returns and one after.
  At(2000.5, router, {"EVALSHA", Sha("create_escalation"), "11"});
  At(2000.51, "lua", {"GET", "bl:req:1"});
  At(2000.52, "lua", {"HSET", "bl:esc:e1", "state", "1"});
  At(2000.53, router, {"EVALSHA", Sha("select_candidates"), "3"});
  At(2001, timers, {"ZRANGE", "bl:timers", "0", "0"});
  At(2002, router, {"EVALSHA", Sha("offer_escalation"), "12"});
  At(2003.5, router, {"HGETALL", "bl:esc:e1"});
  At(2004.5, router, {"SADD", "bl:seen:e1", "x"});
  const std::vector<EscalationWindow> windows = {{t0_ + absl::Milliseconds(2000),
                                                  t0_ + absl::Milliseconds(2003),
                                                  t0_ + absl::Milliseconds(2004)}};
  const RoundTripReport r =
      AnalyseRoundTrips(commands_, windows, t0_, t0_ + absl::Milliseconds(1000));
  EXPECT_EQ(r.escalations, 1);
  EXPECT_DOUBLE_EQ(r.before_offer, 2);
  EXPECT_DOUBLE_EQ(r.in_call, 3);
  EXPECT_DOUBLE_EQ(r.after_return, 1);
  EXPECT_DOUBLE_EQ(r.background_per_second, 1);
  EXPECT_EQ(r.background_kinds, (std::set<std::string>{"ZRANGE bl:timers"}));
  EXPECT_EQ(r.before_offer_by_kind,
            (std::map<std::string, double>{{"pipeline of 2, first script create_escalation", 1},
                                           {"script offer_escalation", 1}}));
  EXPECT_EQ(r.in_call_by_kind.at("HGETALL bl:esc:*"), 1);
  EXPECT_EQ(r.after_return_by_kind.at("SADD bl:seen:*"), 1);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[0].first,
            "CreateEscalation sent → pipeline of 2, first script create_escalation");
  EXPECT_NEAR(r.steps[0].second, 0.5, 1e-6);
  EXPECT_NEAR(r.steps[1].second, 1.5, 1e-6);
  EXPECT_EQ(r.steps[2].first, "script offer_escalation → offer on the helper's stream");
  EXPECT_NEAR(r.steps[2].second, 1.0, 1e-6);
  EXPECT_EQ(r.steps_sample, 1);
}

TEST_F(RoundTripCountTest, CommandsThatWaitedForAReplyAreRoundTripsOfTheirOwn) {
  const std::string router = "127.0.0.1:41000";
  // The same two scripts, but the second sent after the first one's reply (200 us later).
  At(10.5, router, {"EVALSHA", Sha("create_escalation"), "11"});
  At(10.52, "lua", {"HSET", "bl:esc:e1", "state", "1"});
  At(10.72, router, {"EVALSHA", Sha("select_candidates"), "3"});
  At(11.5, router, {"EVALSHA", Sha("offer_escalation"), "12"});
  // A second escalation, from 20 ms: a first use sends the script's source (EVAL).
  At(20.5, router, {"EVAL", "return 1", "0"});
  At(21.5, router, {"EVALSHA", Sha("offer_escalation"), "12"});
  const std::vector<EscalationWindow> windows = {
      {t0_ + absl::Milliseconds(10), t0_ + absl::Milliseconds(12), t0_ + absl::Milliseconds(13)},
      {t0_ + absl::Milliseconds(20), t0_ + absl::Milliseconds(22), t0_ + absl::Milliseconds(23)}};
  const RoundTripReport r = AnalyseRoundTrips(commands_, windows, t0_, t0_);
  EXPECT_DOUBLE_EQ(r.before_offer, 2.5);  // 3 and 2
  EXPECT_DOUBLE_EQ(r.before_offer_by_kind.at("script create_escalation"), 0.5);
  EXPECT_DOUBLE_EQ(r.before_offer_by_kind.at("script select_candidates"), 0.5);
  EXPECT_DOUBLE_EQ(r.before_offer_by_kind.at("script ? (EVAL, first use)"), 0.5);
  EXPECT_DOUBLE_EQ(r.before_offer_by_kind.at("script offer_escalation"), 1);
  EXPECT_TRUE(r.background_kinds.empty());
}

TEST(ScriptTimesTest, RunsAreCountedPerEscalation) {
  std::map<std::string, Samples> runs;
  for (int us : {100, 300, 200, 400}) runs["create_escalation"].Add(absl::Microseconds(us));
  runs["claim_due"].Add(absl::Microseconds(50));
  runs["never_ran"];
  const auto t = SummariseScriptTimes(runs, 4);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t.at("create_escalation").runs_per_escalation, 1);
  EXPECT_DOUBLE_EQ(t.at("create_escalation").median_ms, 0.2);
  EXPECT_DOUBLE_EQ(t.at("create_escalation").p90_ms, 0.4);
  EXPECT_DOUBLE_EQ(t.at("claim_due").runs_per_escalation, 0.25);
  EXPECT_TRUE(SummariseScriptTimes(runs, 0).empty());
}

}  // namespace
}  // namespace backline::bench
