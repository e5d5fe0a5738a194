#include "bench/redis_round_trips.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/chat/chat_lua.h"
#include "services/presence/presence_lua.h"
#include "services/router/router_lua.h"
#include "services/store/script_call.h"
#include "services/store/store_lua.h"

namespace backline::bench {
namespace {

// Commands of one connection closer than this are one pipeline: Redis logs the next command of
// a pipeline 10-40 us after it finished the one before (a script included), the first command
// of the caller's next round trip 100 us or more after (a reply, the caller's work, a request).
constexpr absl::Duration kPipelineGap = absl::Microseconds(60);
constexpr absl::string_view kOfferScript = "script offer_escalation";

int Connect(const store::RedisOptions& o) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o.host.c_str(), absl::StrCat(o.port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t sent = 0;
  while (sent < s.size()) {
    const ssize_t n = send(fd, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string Resp(const std::vector<std::string>& argv) {
  std::string out = absl::StrCat("*", argv.size(), "\r\n");
  for (const std::string& a : argv) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

// `"EVALSHA" "ab\"c" "3"` -> its arguments, unescaped as Redis escapes them (sdscatrepr).
std::vector<std::string> ParseArgs(absl::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '"') break;
    ++i;
    std::string arg;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c == '\\' && i < s.size()) {
        const char e = s[i++];
        switch (e) {
          case 'n':
            c = '\n';
            break;
          case 'r':
            c = '\r';
            break;
          case 't':
            c = '\t';
            break;
          case 'a':
            c = '\a';
            break;
          case 'b':
            c = '\b';
            break;
          case 'x': {
            int v = 0;
            if (i + 2 <= s.size() && absl::SimpleHexAtoi(s.substr(i, 2), &v)) {
              c = static_cast<char>(v);
              i += 2;
            }
            break;
          }
          default:
            c = e;
        }
      }
      arg.push_back(c);
    }
    ++i;  // closing quote
    out.push_back(std::move(arg));
  }
  return out;
}

// `bl:person:a17` -> `bl:person:*`: segments with a digit are ids.
std::string KeyPattern(absl::string_view key) {
  std::vector<std::string> parts = absl::StrSplit(key, ':');
  for (std::string& p : parts) {
    if (std::any_of(p.begin(), p.end(),
                    [](char c) { return absl::ascii_isdigit(c) || c == '-'; })) {
      p = "*";
    }
  }
  return absl::StrJoin(parts, ":");
}

std::string KindOf(const MonitoredCommand& c, const std::map<std::string, std::string>& scripts) {
  const std::string name = absl::AsciiStrToUpper(c.argv[0]);
  if (name == "EVALSHA" && c.argv.size() > 1) {
    auto it = scripts.find(c.argv[1]);
    return it != scripts.end() ? absl::StrCat("script ", it->second)
                               : absl::StrCat("script ", c.argv[1].substr(0, 8));
  }
  if (name == "EVAL" && c.argv.size() > 1) {
    // The source itself: the script's first use since Redis started (after a NOSCRIPT).
    auto it = scripts.find(store::RedisScript("", c.argv[1]).sha1());
    return absl::StrCat("script ", it != scripts.end() ? it->second : "?", " (EVAL, first use)");
  }
  if (c.argv.size() > 1) return absl::StrCat(name, " ", KeyPattern(c.argv[1]));
  return name;
}

struct RoundTrip {
  absl::Time at;
  std::string kind;
};

// The round trips of the recording: commands sent by clients (not by scripts, not by the
// benchmark's own INFO), with pipelines folded into one. A pipeline is commands of one
// connection that Redis ran back to back: each came less than kPipelineGap after the one before
// it had finished — after the last command its script ran, for a script.
std::vector<RoundTrip> RoundTrips(const std::vector<MonitoredCommand>& commands) {
  const std::map<std::string, std::string> scripts = KnownScripts();
  std::vector<RoundTrip> out;
  const MonitoredCommand* last = nullptr;
  absl::Time last_done;  // when Redis last ran something for `last` (its own or its script's)
  std::string first_kind;
  int commands_in_trip = 0;
  for (const MonitoredCommand& c : commands) {
    if (c.client == "lua") {
      if (last != nullptr) last_done = c.at;
      continue;
    }
    const std::string name = absl::AsciiStrToUpper(c.argv[0]);
    if (name == "INFO" || name == "MONITOR") continue;
    if (last != nullptr && last->client == c.client && c.at - last_done < kPipelineGap) {
      ++commands_in_trip;
      out.back().kind = absl::StrCat("pipeline of ", commands_in_trip, ", first ", first_kind);
    } else {
      first_kind = KindOf(c, scripts);
      commands_in_trip = 1;
      out.push_back({c.at, first_kind});
    }
    last = &c;
    last_done = c.at;
  }
  return out;
}

}  // namespace

bool ParseMonitorLine(absl::string_view line, MonitoredCommand* out) {
  if (line.empty() || line[0] != '+') return false;
  line.remove_prefix(1);
  const size_t space = line.find(' ');
  const size_t open = line.find('[');
  const size_t close = line.find(']');
  if (space == absl::string_view::npos || open == absl::string_view::npos ||
      close == absl::string_view::npos || close < open) {
    return false;
  }
  std::pair<absl::string_view, absl::string_view> ts = absl::StrSplit(line.substr(0, space), '.');
  int64_t secs = 0, micros = 0;
  if (!absl::SimpleAtoi(ts.first, &secs) || !absl::SimpleAtoi(ts.second, &micros)) return false;
  out->at = absl::FromUnixMicros(secs * 1000000 + micros);
  absl::string_view client = line.substr(open + 1, close - open - 1);
  const size_t db_end = client.find(' ');
  out->client = std::string(db_end == absl::string_view::npos ? client : client.substr(db_end + 1));
  out->argv = ParseArgs(line.substr(close + 1));
  return !out->argv.empty();
}

MonitorTap::MonitorTap(const store::RedisOptions& redis) {
  fd_ = Connect(redis);
  if (fd_ < 0) return;
  if (!redis.password.empty()) SendAll(fd_, Resp({"AUTH", redis.password}));
  if (!SendAll(fd_, Resp({"MONITOR"}))) {
    close(fd_);
    fd_ = -1;
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

MonitorTap::~MonitorTap() { Stop(); }

void MonitorTap::Run() {
  std::string buffer;
  char chunk[65536];
  while (!stop_.load()) {
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    std::vector<MonitoredCommand> parsed;
    for (size_t eol; (eol = buffer.find("\r\n", start)) != std::string::npos; start = eol + 2) {
      MonitoredCommand c;
      if (ParseMonitorLine(absl::string_view(buffer).substr(start, eol - start), &c)) {
        parsed.push_back(std::move(c));
      }
    }
    buffer.erase(0, start);
    absl::MutexLock lock(&mu_);
    for (auto& c : parsed) seen_.push_back(std::move(c));
  }
}

std::vector<MonitoredCommand> MonitorTap::Stop() {
  if (fd_ >= 0) {
    stop_.store(true);
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(fd_);
    fd_ = -1;
  }
  absl::MutexLock lock(&mu_);
  return std::move(seen_);
}

std::map<std::string, std::string> KnownScripts() {
  const std::vector<std::pair<const char*, const char*>> sources = {
      {"create_escalation", router::kCreateEscalationLua},
      {"offer_escalation", router::kOfferEscalationLua},
      {"accept_offer", router::kAcceptOfferLua},
      {"release_offer", router::kReleaseOfferLua},
      {"close_escalation", router::kCloseEscalationLua},
      {"queued_for_helper", router::kQueuedForHelperLua},
      {"reopen_escalation", router::kReopenEscalationLua},
      {"transfer_escalation", router::kTransferEscalationLua},
      {"invite_expert", router::kInviteExpertLua},
      {"mark_broadcast", router::kMarkBroadcastLua},
      {"roster_apply", presence::kRosterApplyLua},
      {"set_status", presence::kSetStatusLua},
      {"touch_session", presence::kTouchSessionLua},
      {"release_session", presence::kReleaseSessionLua},
      {"check_liveness", presence::kCheckLivenessLua},
      {"instance_gone", presence::kInstanceGoneLua},
      {"select_candidates", presence::kSelectCandidatesLua},
      {"post_message", chat::kPostMessageLua},
      {"open_thread", chat::kOpenThreadLua},
      {"join_thread", chat::kJoinThreadLua},
      {"replace_message", chat::kReplaceMessageLua},
      {"mark_read", chat::kMarkReadLua},
      {"typing", chat::kTypingLua},
      {"read_events", store::kReadEventsLua},
      {"claim_due", store::kClaimDueLua},
  };
  std::map<std::string, std::string> out;
  for (const auto& [name, source] : sources) {
    out[store::MakeScript(name, source).sha1()] = name;
  }
  return out;
}

RoundTripReport AnalyseRoundTrips(const std::vector<MonitoredCommand>& commands,
                                  const std::vector<EscalationWindow>& windows,
                                  absl::Time idle_from, absl::Time idle_to) {
  RoundTripReport r;
  r.escalations = static_cast<int>(windows.size());
  if (windows.empty()) return r;
  const std::vector<RoundTrip> trips = RoundTrips(commands);
  // Background: what the services do on their own (timer polls, leases, liveness), seen while
  // nothing happened. Those kinds of round trips are left out of the counts below.
  const double idle_seconds = absl::ToDoubleSeconds(idle_to - idle_from);
  long idle_trips = 0;
  for (const RoundTrip& t : trips) {
    if (t.at >= idle_from && t.at < idle_to) {
      ++idle_trips;
      r.background_kinds.insert(t.kind);
    }
  }
  r.background_per_second = idle_seconds > 0 ? idle_trips / idle_seconds : 0;
  double before = 0, during = 0, after = 0;
  // Where the time goes before the offer: the gaps between the call, each round trip (as Redis
  // time-stamped it) and the offer on the stream, for escalations whose round trips came in the
  // usual order.
  std::map<std::vector<std::string>, std::vector<std::vector<double>>> step_gaps;
  for (size_t k = 0; k < windows.size(); ++k) {
    const EscalationWindow& w = windows[k];
    const absl::Time next =
        k + 1 < windows.size() ? windows[k + 1].start : w.returned + absl::Milliseconds(50);
    // Before the offer: up to the round trip that made it (the offer script, which also
    // announces it); the helper's stream shows it a moment later, when the router may already
    // be on its next round trip.
    absl::Time offer_made = w.offered;
    for (const RoundTrip& t : trips) {
      if (t.at >= w.start && t.at < next && t.kind == kOfferScript) {
        offer_made = t.at;
        break;
      }
    }
    std::vector<std::string> path;
    std::vector<double> gaps;
    absl::Time last = w.start;
    for (const RoundTrip& t : trips) {
      if (t.at < w.start || t.at >= next || r.background_kinds.count(t.kind)) continue;
      if (t.at <= offer_made) {
        ++before;
        r.before_offer_by_kind[t.kind] += 1;
        path.push_back(t.kind);
        gaps.push_back(absl::ToDoubleMilliseconds(t.at - last));
        last = t.at;
      }
      if (t.at <= w.returned) {
        ++during;
        r.in_call_by_kind[t.kind] += 1;
      } else {
        ++after;
        r.after_return_by_kind[t.kind] += 1;
      }
    }
    gaps.push_back(absl::ToDoubleMilliseconds(w.offered - last));
    step_gaps[path].push_back(std::move(gaps));
  }
  // The most common path, step by step (medians).
  const auto usual = std::max_element(
      step_gaps.begin(), step_gaps.end(),
      [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  if (usual != step_gaps.end()) {
    const std::vector<std::string>& path = usual->first;
    for (size_t i = 0; i <= path.size(); ++i) {
      std::vector<double> values;
      for (const auto& g : usual->second) values.push_back(g[i]);
      std::sort(values.begin(), values.end());
      const std::string from = i == 0 ? "CreateEscalation sent" : path[i - 1];
      const std::string to = i == path.size() ? "offer on the helper's stream" : path[i];
      r.steps.push_back({absl::StrCat(from, " → ", to), values[values.size() / 2]});
    }
    r.steps_sample = static_cast<int>(usual->second.size());
  }
  const double n = static_cast<double>(windows.size());
  r.before_offer = before / n;
  r.in_call = during / n;
  r.after_return = after / n;
  for (auto* by_kind : {&r.before_offer_by_kind, &r.in_call_by_kind, &r.after_return_by_kind}) {
    for (auto& [kind, count] : *by_kind) count /= n;
  }
  return r;
}

namespace {

// CONFIG GET's value of one parameter, "" when refused.
std::string ConfigValue(store::RedisClient& redis, const char* name) {
  auto r = redis.Command({"CONFIG", "GET", name});
  if (!r.ok() || !r->is_array() || r->elements.size() != 2) return "";
  return r->elements[1].AsString();
}

bool ConfigSet(store::RedisClient& redis, const char* name, const std::string& value) {
  auto r = redis.Command({"CONFIG", "SET", name, value});
  return r.ok() && r->type == store::RedisReply::Type::kStatus;
}

}  // namespace

ScriptClock::ScriptClock(store::RedisClient& redis, int capacity) : redis_(redis) {
  threshold_ = ConfigValue(redis_, "slowlog-log-slower-than");
  length_ = ConfigValue(redis_, "slowlog-max-len");
  if (threshold_.empty() || length_.empty()) return;
  ok_ = ConfigSet(redis_, "slowlog-max-len", absl::StrCat(capacity)) &&
        redis_.Command({"SLOWLOG", "RESET"}).ok() &&
        ConfigSet(redis_, "slowlog-log-slower-than", "0");
  if (!ok_) Stop();
}

ScriptClock::~ScriptClock() { Stop(); }

std::map<std::string, Samples> ScriptClock::Stop() {
  std::map<std::string, Samples> out;
  if (threshold_.empty()) return out;
  // Back to the settings before first, so that reading the log is not logged.
  ConfigSet(redis_, "slowlog-log-slower-than", threshold_);
  auto log = ok_ ? redis_.Command({"SLOWLOG", "GET", "-1"})
                 : absl::StatusOr<store::RedisReply>(store::RedisReply{});
  redis_.Command({"SLOWLOG", "RESET"}).IgnoreError();
  ConfigSet(redis_, "slowlog-max-len", length_);
  threshold_.clear();
  if (!log.ok() || !log->is_array()) return out;
  const std::map<std::string, std::string> scripts = KnownScripts();
  // Each entry: id, unix time, duration in us, argv, client address, client name.
  for (const store::RedisReply& e : log->elements) {
    if (!e.is_array() || e.elements.size() < 4 || !e.elements[3].is_array()) continue;
    const auto& argv = e.elements[3].elements;
    if (argv.size() < 2 || !absl::EqualsIgnoreCase(argv[0].AsString(), "EVALSHA")) continue;
    const std::string sha = argv[1].AsString();
    auto it = scripts.find(sha);
    out[it != scripts.end() ? it->second : sha.substr(0, 8)].Add(
        absl::Microseconds(e.elements[2].AsInteger()));
  }
  return out;
}

std::map<std::string, RoundTripReport::ScriptTime> SummariseScriptTimes(
    const std::map<std::string, Samples>& runs, int escalations) {
  std::map<std::string, RoundTripReport::ScriptTime> out;
  if (escalations <= 0) return out;
  for (const auto& [name, times] : runs) {
    if (times.count() == 0) continue;
    RoundTripReport::ScriptTime& t = out[name];
    t.runs_per_escalation = static_cast<double>(times.count()) / escalations;
    t.median_ms = times.QuantileMs(0.5);
    t.p90_ms = times.QuantileMs(0.9);
  }
  return out;
}

long long ReadsProcessed(store::RedisClient& redis) {
  auto info = redis.Command({"INFO", "stats"});
  if (!info.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(info->str, "\r\n")) {
    if (absl::ConsumePrefix(&line, "total_reads_processed:")) {
      long long v = 0;
      if (absl::SimpleAtoi(line, &v)) return v;
    }
  }
  return -1;
}

nlohmann::json RoundTripReport::ToJson() const {
  return {{"escalations", escalations},
          {"before_offer", before_offer},
          {"in_call", in_call},
          {"after_return", after_return},
          {"background_per_second", background_per_second},
          {"reads_per_escalation", reads_per_escalation},
          {"before_offer_by_kind", before_offer_by_kind},
          {"in_call_by_kind", in_call_by_kind},
          {"after_return_by_kind", after_return_by_kind},
          {"background_kinds", background_kinds},
          {"steps_before_offer_ms", steps},
          {"steps_sample", steps_sample},
          {"timed_escalations", timed_escalations},
          {"timed_offer_ms", timed_offer_ms},
          {"script_times_ms", [&] {
             nlohmann::json j = nlohmann::json::object();
             for (const auto& [name, t] : script_times) {
               j[name] = {{"runs_per_escalation", t.runs_per_escalation},
                          {"median", t.median_ms},
                          {"p90", t.p90_ms}};
             }
             return j;
           }()}};
}

std::string RoundTripReport::Markdown() const {
  std::string out = absl::StrFormat(
      "Redis round trips per escalation, counted with MONITOR over %d escalations made one at a "
      "time: **%.2f** from CreateEscalation to the offer on the helper's stream, %.2f until the "
      "call returned, %.2f more set off after it. Left out as background (seen while nothing "
      "happened, %.1f round trips/s): %s.",
      escalations, before_offer, in_call, after_return, background_per_second,
      background_kinds.empty() ? "none" : absl::StrJoin(background_kinds, ", "));
  if (reads_per_escalation >= 0) {
    absl::StrAppend(&out, absl::StrFormat(" Redis's own count of client reads (INFO "
                                          "total_reads_processed, every process, background "
                                          "subtracted): %.2f per escalation.",
                                          reads_per_escalation));
  }
  absl::StrAppend(&out,
                  "\n\n| round trip | before the offer | whole call | after it |\n"
                  "| --- | ---: | ---: | ---: |\n");
  std::set<std::string> kinds;
  for (const auto* by_kind : {&in_call_by_kind, &after_return_by_kind}) {
    for (const auto& [kind, count] : *by_kind) kinds.insert(kind);
  }
  auto of = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return absl::StrFormat("%.2f", it == m.end() ? 0.0 : it->second);
  };
  for (const std::string& kind : kinds) {
    absl::StrAppend(&out, "| ", kind, " | ", of(before_offer_by_kind, kind), " | ",
                    of(in_call_by_kind, kind), " | ", of(after_return_by_kind, kind), " |\n");
  }
  if (!steps.empty()) {
    absl::StrAppend(&out, "\nWhere the time goes before the offer (medians over the ", steps_sample,
                    " escalations whose round trips came in the usual order; Redis's time stamps "
                    "against the generator's clock):\n\n| step | ms |\n| --- | ---: |\n");
    for (const auto& [step, ms] : steps) {
      absl::StrAppend(&out, "| ", step, " | ", absl::StrFormat("%.3f", ms), " |\n");
    }
  }
  if (!script_times.empty()) {
    absl::StrAppend(
        &out,
        absl::StrFormat(
            "\nRedis's own time running each script (SLOWLOG logging every command, over %d more "
            "escalations made one at a time without MONITOR, which took a median %.3f ms from "
            "CreateEscalation to the offer on the helper's stream; scripts that ran less than "
            "once per escalation are background or a first use):\n\n"
            "| script | runs per escalation | median ms | p90 ms |\n| --- | ---: | ---: | ---: |\n",
            timed_escalations, timed_offer_ms));
    for (const auto& [name, t] : script_times) {
      absl::StrAppend(&out, absl::StrFormat("| %s | %.2f | %.3f | %.3f |\n", name,
                                            t.runs_per_escalation, t.median_ms, t.p90_ms));
    }
  }
  return out;
}

}  // namespace backline::bench
