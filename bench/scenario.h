// A load scenario for backline-load: who is connected, how they behave, and for how long. Read
// from a JSON file (bench/scenarios/*.json; every key and its default in
// bench/scenarios/README.md), so that a scenario is data, not code.
//
//   absl::StatusOr<Scenario> s = LoadScenario("bench/scenarios/escalations.json");
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace backline::bench {

// A range of milliseconds; a value is drawn uniformly from it.
struct MillisRange {
  int min = 0;
  int max = 0;
};

struct Scenario {
  std::string name;
  std::string description;
  double duration_seconds = 10;  // measured
  double warmup_seconds = 2;     // run before measuring, not counted
  bool poisson = true;           // arrivals: Poisson (true) or evenly spaced

  // Front-line agents: each holds an event stream; they escalate, chat in the thread once a
  // senior accepted, and sometimes cancel.
  struct Agents {
    int count = 2000;
    double escalations_per_second = 100;
    double cancel_probability = 0.05;  // the customer hung up: cancel before it is accepted
    MillisRange cancel_after = {1000, 6000};
    int messages_per_escalation = 4;  // messages in the thread, the agent first, then in turn
    MillisRange think = {200, 800};   // before each reply, and before the helper resolves
  } agents;

  // Seniors: each holds an event stream, is AVAILABLE, and answers offers.
  struct Seniors {
    int count = 200;
    int capacity = 3;
    double accept_probability = 0.85;
    double decline_probability = 0.10;  // the rest ignore the offer and let it lapse
    MillisRange answer_after = {200, 2000};
    // A senior set on BREAK for missed offers is back (AVAILABLE) this much later.
    int back_after_break_ms = 3000;
    // Each senior has each skill with this probability (at proficiency 2..5), and each
    // language; everyone has at least one of each.
    double skill_share = 0.9;
    double language_share = 0.6;
  } seniors;

  // What escalations ask for: relative weights of the (one) skill, the language and the
  // priority, and the range of the minimum proficiency.
  std::map<std::string, double> skills = {
      {"billing", 4}, {"refunds", 2}, {"hardware", 2}, {"contracts", 1}};
  std::map<std::string, double> languages = {{"en", 4}, {"da", 3}, {"nl", 2}, {"lt", 1}};
  std::map<std::string, double> priorities = {{"normal", 8}, {"high", 1.5}, {"urgent", 0.5}};
  int min_proficiency_low = 2;
  int min_proficiency_high = 3;

  // Chat outside escalations: direct threads between pairs of agents, posted to at a steady
  // aggregate rate (the two sides in turn).
  struct DirectChat {
    int threads = 0;
    double messages_per_second = 0;
    // Each post's deadline: a post not answered by then counts as an error (DEADLINE_EXCEEDED).
    int deadline_ms = 5000;
  } direct_chat;
};

// Parses a scenario; INVALID_ARGUMENT naming the key of the first problem. Keys not given keep
// the defaults above; unknown keys are refused (a typo must not silently run another test).
absl::StatusOr<Scenario> ParseScenario(const std::string& json);
absl::StatusOr<Scenario> LoadScenario(const std::string& path);

}  // namespace backline::bench
