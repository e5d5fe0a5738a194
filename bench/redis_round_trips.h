// Counts the Redis round trips Backline makes per escalation, for real: a MONITOR connection
// records every command Redis executes (with Redis's own time stamp, on the same clock as the
// benchmark), while escalations are made one at a time and each one's start, offer delivery and
// return are noted. Commands run inside scripts are left out (they cost no round trip);
// commands a connection sends back to back within microseconds are one pipeline, one round
// trip. INFO's total_reads_processed gives a second count that knows nothing of commands.
//
//   MonitorTap tap(redis_options);                  // starts recording
//   ... windows.push_back({start, offered, returned}) per escalation ...
//   RoundTripReport r = AnalyseRoundTrips(tap.Stop(), windows, idle_seconds_before);
//
// MONITOR costs Redis a formatted line per command, so the time Redis itself spends running each
// script is taken in another pass without it: ScriptClock has SLOWLOG log every command.
#pragma once

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/stats.h"
#include "nlohmann/json.hpp"
#include "services/store/redis_client.h"

namespace backline::bench {

// One command as MONITOR shows it.
struct MonitoredCommand {
  absl::Time at;
  std::string client;  // `127.0.0.1:port`, or `lua` for a command run by a script
  std::vector<std::string> argv;
};

// One line of MONITOR's feed, `+1700000000.123456 [0 127.0.0.1:5000] "GET" "k"`, as a command
// (arguments unescaped as Redis escapes them); false for any other line.
bool ParseMonitorLine(absl::string_view line, MonitoredCommand* out);

// A MONITOR connection on its own thread, over a plain socket (MONITOR turns the connection into
// a one-way feed, which the pooled client is not made for).
class MonitorTap {
 public:
  explicit MonitorTap(const store::RedisOptions& redis);
  ~MonitorTap();
  bool ok() const { return fd_ >= 0; }
  // Stops recording and returns what was seen.
  std::vector<MonitoredCommand> Stop();

 private:
  void Run();
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<MonitoredCommand> seen_ ABSL_GUARDED_BY(mu_);
};

// One escalation made alone: when its CreateEscalation was sent, when the offer reached the
// helper's stream, and when the call returned.
struct EscalationWindow {
  absl::Time start;
  absl::Time offered;
  absl::Time returned;
};

struct RoundTripReport {
  int escalations = 0;
  double before_offer = 0;  // round trips from the call to the offer on the helper's stream
  double in_call = 0;       // ... to the call's return
  double after_return = 0;  // until the next escalation started (work the call set off)
  double background_per_second = 0;        // measured while nothing happened
  std::set<std::string> background_kinds;  // seen then, so left out of the counts
  double reads_per_escalation = -1;        // from INFO total_reads_processed (-1: not measured)
  // Round trips per escalation by what they were (command and key pattern), before the offer
  // and in all.
  std::map<std::string, double> before_offer_by_kind;
  std::map<std::string, double> in_call_by_kind;
  std::map<std::string, double> after_return_by_kind;
  // The usual path to the offer, step by step: (from → to, median ms).
  std::vector<std::pair<std::string, double>> steps;
  int steps_sample = 0;
  // A further pass of the same escalations without MONITOR, with Redis timing each script
  // (ScriptClock): how many escalations, their median from the call to the offer on the helper's
  // stream, and per script how often it ran per escalation and for how long.
  struct ScriptTime {
    double runs_per_escalation = 0;
    double median_ms = 0;
    double p90_ms = 0;
  };
  int timed_escalations = 0;
  double timed_offer_ms = 0;
  std::map<std::string, ScriptTime> script_times;
  nlohmann::json ToJson() const;
  // A Markdown paragraph with the counts and a table of the kinds.
  std::string Markdown() const;
};

// Script names by SHA1, to name EVALSHA calls (the scripts of every Backline service).
std::map<std::string, std::string> KnownScripts();

// `idle` is a window in which nothing was done: the kinds of round trips seen in it are the
// services' background work, left out of the counts.
RoundTripReport AnalyseRoundTrips(const std::vector<MonitoredCommand>& commands,
                                  const std::vector<EscalationWindow>& windows,
                                  absl::Time idle_from, absl::Time idle_to);

// Redis's own time running scripts: while it lives, SLOWLOG logs every command (threshold 0,
// room for `capacity` entries); Stop() reads the log back, puts the previous settings back and
// returns each script's run times, by name (KnownScripts; an unknown one by its SHA1's
// first 8 digits). Commands scripts ran are not returned; the logging costs Redis an entry per
// command, a little of its own. Not ok() when Redis refuses CONFIG (renamed, or no right).
class ScriptClock {
 public:
  explicit ScriptClock(store::RedisClient& redis, int capacity = 100000);
  ~ScriptClock();
  bool ok() const { return ok_; }
  std::map<std::string, Samples> Stop();

 private:
  store::RedisClient& redis_;
  bool ok_ = false;
  std::string threshold_, length_;  // the settings before
};

// Script run times (from ScriptClock) per escalation: runs per escalation, median and p90.
std::map<std::string, RoundTripReport::ScriptTime> SummariseScriptTimes(
    const std::map<std::string, Samples>& runs, int escalations);

// INFO stats total_reads_processed: read events Redis served, about one per client round trip.
long long ReadsProcessed(store::RedisClient& redis);

}  // namespace backline::bench
