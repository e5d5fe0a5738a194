#include "services/router/routing_policy.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "services/common/principal.h"
#include "services/common/validation.h"

namespace backline::router {
namespace {

using nlohmann::json;

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("routing policy ", where, ": ", what));
}

absl::StatusOr<absl::Duration> Seconds(const json& obj, const char* key, const std::string& where,
                                       absl::Duration fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 86400 * 7) {
    return Bad(absl::StrCat(where, ".", key), "must be a number of seconds, 0 to a week");
  }
  return absl::Seconds(it->get<double>());
}

absl::StatusOr<Ring> ParseRing(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "must be an object");
  Ring ring;
  for (const auto& [key, value] : j.items()) {
    if (key != "name" && key != "roles" && key != "scope" && key != "mentor" &&
        key != "min_proficiency" && key != "open_after_seconds") {
      return Bad(where, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  ring.name = j.value("name", where);
  if (auto it = j.find("roles"); it != j.end()) {
    if (!it->is_array()) return Bad(where + ".roles", "must be a list of roles");
    for (const auto& r : *it) {
      const v1::Role role = r.is_string() ? ParseRole(r.get<std::string>()) : v1::ROLE_UNSPECIFIED;
      if (!IsHelperRole(role)) {
        return Bad(where + ".roles", "roles are senior, team_leader and supervisor");
      }
      ring.roles.push_back(role);
    }
  }
  const std::string scope = j.value("scope", "anyone");
  if (scope == "team") {
    ring.scope = Ring::Scope::kTeam;
  } else if (scope == "site") {
    ring.scope = Ring::Scope::kSite;
  } else if (scope != "anyone") {
    return Bad(where + ".scope", "must be anyone, site or team");
  }
  if (auto it = j.find("mentor"); it != j.end()) {
    if (!it->is_boolean()) return Bad(where + ".mentor", "must be true or false");
    ring.mentor = it->get<bool>();
  }
  if (auto it = j.find("min_proficiency"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int>() < 0 || it->get<int>() > 5) {
      return Bad(where + ".min_proficiency", "must be 0..5");
    }
    ring.min_proficiency = it->get<int>();
  }
  auto open_after = Seconds(j, "open_after_seconds", where, absl::ZeroDuration());
  if (!open_after.ok()) return open_after.status();
  ring.open_after = *open_after;
  return ring;
}

absl::StatusOr<GroupPolicy> ParseGroup(const json& j, const std::string& name) {
  const std::string where = absl::StrCat("groups.", name);
  if (!j.is_object()) return Bad(where, "must be an object");
  for (const auto& [key, value] : j.items()) {
    if (key != "rings" && key != "order" && key != "broadcast_after_seconds" &&
        key != "expire_after_seconds" && key != "on_call_takes_urgent" &&
        key != "parallel_offers") {
      return Bad(where, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  GroupPolicy g;
  g.name = name;
  auto rings = j.find("rings");
  if (rings == j.end() || !rings->is_array() || rings->empty()) {
    return Bad(where + ".rings", "at least one ring is needed");
  }
  for (size_t i = 0; i < rings->size(); ++i) {
    auto ring = ParseRing((*rings)[i], absl::StrCat(where, ".rings[", i, "]"));
    if (!ring.ok()) return ring.status();
    if (!g.rings.empty() && ring->open_after < g.rings.back().open_after) {
      return Bad(absl::StrCat(where, ".rings[", i, "]"), "rings must open in order");
    }
    g.rings.push_back(std::move(*ring));
  }
  const std::string order = j.value("order", "proficiency");
  if (order == "longest_idle") {
    g.order = GroupPolicy::Order::kLongestIdle;
  } else if (order == "least_loaded") {
    g.order = GroupPolicy::Order::kLeastLoaded;
  } else if (order == "round_robin") {
    g.order = GroupPolicy::Order::kRoundRobin;
  } else if (order != "proficiency") {
    return Bad(where + ".order", "must be proficiency, longest_idle, least_loaded or round_robin");
  }
  if (auto it = j.find("on_call_takes_urgent"); it != j.end()) {
    if (!it->is_boolean()) return Bad(where + ".on_call_takes_urgent", "must be true or false");
    g.on_call_takes_urgent = it->get<bool>();
  }
  if (auto it = j.find("parallel_offers"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int>() < 1 || it->get<int>() > 5) {
      return Bad(where + ".parallel_offers", "must be 1..5");
    }
    g.parallel_offers = it->get<int>();
  }
  auto broadcast = Seconds(j, "broadcast_after_seconds", where, g.broadcast_after);
  if (!broadcast.ok()) return broadcast.status();
  g.broadcast_after = *broadcast;
  auto expire = Seconds(j, "expire_after_seconds", where, g.expire_after);
  if (!expire.ok()) return expire.status();
  g.expire_after = *expire;
  return g;
}

}  // namespace

const GroupPolicy& RoutingPolicy::For(const v1::Escalation& e) const {
  if (e.skills_size() > 0) {
    auto s = skills.find(e.skills(0).skill());
    if (s != skills.end()) {
      auto g = groups.find(s->second);
      if (g != groups.end()) return g->second;
    }
  }
  return default_group;
}

bool RoutingPolicy::AnyOnCallTakesUrgent() const {
  if (default_group.on_call_takes_urgent) return true;
  return std::any_of(groups.begin(), groups.end(),
                     [](const auto& g) { return g.second.on_call_takes_urgent; });
}

RoutingPolicy DefaultRoutingPolicy() {
  RoutingPolicy p;
  Ring everyone;
  everyone.name = "everyone who can help";
  p.default_group.rings.push_back(everyone);
  return p;
}

absl::StatusOr<RoutingPolicy> ParseRoutingPolicy(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return Bad("", absl::StrCat("not valid JSON (", e.what(), ")"));
  }
  if (!j.is_object()) return Bad("", "must be a JSON object");
  RoutingPolicy p = DefaultRoutingPolicy();
  auto groups = j.find("groups");
  if (groups == j.end() || !groups->is_object()) return Bad("groups", "required object");
  for (const auto& [name, group] : groups->items()) {
    auto g = ParseGroup(group, name);
    if (!g.ok()) return g.status();
    if (name == "default") {
      p.default_group = std::move(*g);
    } else {
      p.groups[name] = std::move(*g);
    }
  }
  if (auto skills = j.find("skills"); skills != j.end()) {
    if (!skills->is_object()) return Bad("skills", "must map skills to groups");
    for (const auto& [skill, group] : skills->items()) {
      if (!group.is_string() || (p.groups.count(group.get<std::string>()) == 0 &&
                                 group.get<std::string>() != "default")) {
        return Bad(absl::StrCat("skills.", skill), "must name a group");
      }
      p.skills[skill] = group.get<std::string>();
    }
  }
  return p;
}

absl::StatusOr<RoutingPolicy> LoadRoutingPolicy(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read routing policy ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseRoutingPolicy(ss.str());
}

}  // namespace backline::router
