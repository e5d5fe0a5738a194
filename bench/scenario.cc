#include "bench/scenario.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/common/validation.h"

namespace backline::bench {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// Refuses keys of `object` not in `known`.
absl::Status OnlyKnownKeys(const json& object, const std::string& where,
                           const std::set<std::string>& known) {
  if (!object.is_object()) return Bad(where, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (!known.count(key)) {
      return Bad(where.empty() ? key : absl::StrCat(where, ".", key),
                 absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// Reads `object[key]` into `*out` when present, checking it lies in [lo, hi].
template <typename T>
absl::Status Number(const json& object, const std::string& where, const std::string& key, T lo,
                    T hi, T* out) {
  if (!object.contains(key)) return absl::OkStatus();
  const json& v = object[key];
  const std::string at = where.empty() ? key : absl::StrCat(where, ".", key);
  if (!v.is_number()) return Bad(at, "must be a number");
  const double d = v.get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    return Bad(at, absl::StrCat(d, " is outside ", lo, "..", hi));
  }
  *out = static_cast<T>(d);
  return absl::OkStatus();
}

absl::Status Range(const json& object, const std::string& where, const std::string& key,
                   MillisRange* out) {
  if (!object.contains(key)) return absl::OkStatus();
  const json& v = object[key];
  const std::string at = absl::StrCat(where, ".", key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer()) {
    return Bad(at, "must be [min_ms, max_ms]");
  }
  out->min = v[0].get<int>();
  out->max = v[1].get<int>();
  if (out->min < 0 || out->max < out->min || out->max > 3600000) {
    return Bad(at, "needs 0 <= min <= max <= 3600000");
  }
  return absl::OkStatus();
}

absl::Status Weights(const json& object, const std::string& key,
                     std::map<std::string, double>* out) {
  if (!object.contains(key)) return absl::OkStatus();
  const json& v = object[key];
  if (!v.is_object() || v.empty()) return Bad(key, "must be a non-empty {name: weight} object");
  out->clear();
  for (const auto& [name, weight] : v.items()) {
    if (!weight.is_number() || weight.get<double>() <= 0) {
      return Bad(absl::StrCat(key, ".", name), "weight must be a positive number");
    }
    (*out)[name] = weight.get<double>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return absl::InvalidArgumentError("scenario: not valid JSON");
  BL_RETURN_IF_ERROR(OnlyKnownKeys(
      j, "",
      {"name", "description", "duration_seconds", "warmup_seconds", "arrivals", "agents", "seniors",
       "skills", "languages", "priorities", "min_proficiency", "direct_chat"}));
  Scenario s;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    return Bad("name", "a non-empty string is required");
  }
  s.name = j["name"].get<std::string>();
  if (j.contains("description")) {
    if (!j["description"].is_string()) return Bad("description", "must be a string");
    s.description = j["description"].get<std::string>();
  }
  BL_RETURN_IF_ERROR(Number(j, "", "duration_seconds", 1.0, 3600.0, &s.duration_seconds));
  BL_RETURN_IF_ERROR(Number(j, "", "warmup_seconds", 0.0, 600.0, &s.warmup_seconds));
  if (j.contains("arrivals")) {
    const json& a = j["arrivals"];
    if (a != "poisson" && a != "steady") return Bad("arrivals", "\"poisson\" or \"steady\"");
    s.poisson = a == "poisson";
  }
  if (j.contains("agents")) {
    const json& a = j["agents"];
    BL_RETURN_IF_ERROR(OnlyKnownKeys(a, "agents",
                                     {"count", "escalations_per_second", "cancel_probability",
                                      "cancel_after_ms", "messages_per_escalation", "think_ms"}));
    BL_RETURN_IF_ERROR(Number(a, "agents", "count", 0, 100000, &s.agents.count));
    BL_RETURN_IF_ERROR(Number(a, "agents", "escalations_per_second", 0.0, 10000.0,
                              &s.agents.escalations_per_second));
    BL_RETURN_IF_ERROR(
        Number(a, "agents", "cancel_probability", 0.0, 1.0, &s.agents.cancel_probability));
    BL_RETURN_IF_ERROR(Range(a, "agents", "cancel_after_ms", &s.agents.cancel_after));
    BL_RETURN_IF_ERROR(
        Number(a, "agents", "messages_per_escalation", 0, 1000, &s.agents.messages_per_escalation));
    BL_RETURN_IF_ERROR(Range(a, "agents", "think_ms", &s.agents.think));
  }
  if (j.contains("seniors")) {
    const json& a = j["seniors"];
    BL_RETURN_IF_ERROR(
        OnlyKnownKeys(a, "seniors",
                      {"count", "capacity", "accept_probability", "decline_probability",
                       "answer_after_ms", "back_after_break_ms", "skill_share", "language_share"}));
    BL_RETURN_IF_ERROR(Number(a, "seniors", "count", 0, 100000, &s.seniors.count));
    BL_RETURN_IF_ERROR(Number(a, "seniors", "capacity", 1, 20, &s.seniors.capacity));
    BL_RETURN_IF_ERROR(
        Number(a, "seniors", "accept_probability", 0.0, 1.0, &s.seniors.accept_probability));
    BL_RETURN_IF_ERROR(
        Number(a, "seniors", "decline_probability", 0.0, 1.0, &s.seniors.decline_probability));
    if (s.seniors.accept_probability + s.seniors.decline_probability > 1.0 + 1e-9) {
      return Bad("seniors", "accept_probability + decline_probability must be at most 1");
    }
    BL_RETURN_IF_ERROR(Range(a, "seniors", "answer_after_ms", &s.seniors.answer_after));
    BL_RETURN_IF_ERROR(
        Number(a, "seniors", "back_after_break_ms", 0, 3600000, &s.seniors.back_after_break_ms));
    BL_RETURN_IF_ERROR(Number(a, "seniors", "skill_share", 0.0, 1.0, &s.seniors.skill_share));
    BL_RETURN_IF_ERROR(Number(a, "seniors", "language_share", 0.0, 1.0, &s.seniors.language_share));
  }
  BL_RETURN_IF_ERROR(Weights(j, "skills", &s.skills));
  BL_RETURN_IF_ERROR(Weights(j, "languages", &s.languages));
  BL_RETURN_IF_ERROR(Weights(j, "priorities", &s.priorities));
  for (const auto& [p, w] : s.priorities) {
    if (p != "normal" && p != "high" && p != "urgent") {
      return Bad(absl::StrCat("priorities.", p), "normal, high or urgent");
    }
  }
  if (j.contains("min_proficiency")) {
    const json& v = j["min_proficiency"];
    if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer() ||
        v[0].get<int>() < 1 || v[1].get<int>() > 5 || v[0].get<int>() > v[1].get<int>()) {
      return Bad("min_proficiency", "must be [low, high] within 1..5");
    }
    s.min_proficiency_low = v[0].get<int>();
    s.min_proficiency_high = v[1].get<int>();
  }
  if (j.contains("direct_chat")) {
    const json& a = j["direct_chat"];
    BL_RETURN_IF_ERROR(
        OnlyKnownKeys(a, "direct_chat", {"threads", "messages_per_second", "deadline_ms"}));
    BL_RETURN_IF_ERROR(Number(a, "direct_chat", "threads", 0, 50000, &s.direct_chat.threads));
    BL_RETURN_IF_ERROR(Number(a, "direct_chat", "messages_per_second", 0.0, 100000.0,
                              &s.direct_chat.messages_per_second));
    BL_RETURN_IF_ERROR(
        Number(a, "direct_chat", "deadline_ms", 1, 600000, &s.direct_chat.deadline_ms));
    if (s.direct_chat.threads * 2 > s.agents.count) {
      return Bad("direct_chat.threads", "needs two agents per thread (agents.count too small)");
    }
  }
  return s;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read scenario ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto s = ParseScenario(text.str());
  if (!s.ok())
    return absl::Status(s.status().code(), absl::StrCat(path, ": ", s.status().message()));
  return s;
}

}  // namespace backline::bench
