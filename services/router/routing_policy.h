// The routing policy: per skill group, the rings that widen over time (bullseye routing), the
// order within a ring, and the offer and waiting limits. Loaded from a JSON file (see
// deploy/routing-policy.json); without one, a single ring — every senior, team leader and
// supervisor, at once — and the defaults below.
//
//   {"groups": {"default": {"rings": [...], "order": "proficiency", ...}, "billing": {...}},
//    "skills": {"billing": "billing", "refunds": "billing"}}
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"

namespace backline::router {

// Who may be offered an escalation once the ring is open.
struct Ring {
  std::string name;
  // Roles of the ring's people; empty means every helper role (senior, team leader, supervisor).
  std::vector<v1::Role> roles;
  // Where they must be, relative to the requester.
  enum class Scope { kAnyone, kTeam, kSite } scope = Scope::kAnyone;
  // The requester's mentor belongs to the ring too, whatever their role.
  bool mentor = false;
  // Every required skill at this proficiency at least (0: the escalation's own minimums).
  int min_proficiency = 0;
  // The ring opens this long after the escalation was created — or at once when every ring
  // before it has nobody logged in.
  absl::Duration open_after;
};

struct GroupPolicy {
  std::string name = "default";
  std::vector<Ring> rings;
  // Within a ring: best proficiency first, then longest idle; longest idle only; least loaded
  // first, then longest idle; or round robin (by person id, after the last one offered).
  enum class Order { kProficiency, kLongestIdle, kLeastLoaded, kRoundRobin };
  Order order = Order::kProficiency;
  // URGENT escalations may also be offered to helpers who are ON_CALL (alive, below capacity),
  // after every AVAILABLE helper of the same ring.
  bool on_call_takes_urgent = false;
  // Offered to this many of a ring's best helpers at once (1..5); the first to accept wins.
  int parallel_offers = 1;
  // An escalation still waiting this long is broadcast to its site's supervisors and the
  // requester is told (0: never).
  absl::Duration broadcast_after = absl::Minutes(5);
  // An escalation still waiting this long expires (0: never).
  absl::Duration expire_after;
};

struct RoutingPolicy {
  GroupPolicy default_group;
  std::map<std::string, GroupPolicy> groups;  // by name
  std::map<std::string, std::string> skills;  // skill -> group name

  // The policy of an escalation: the group of its first required skill, else the default.
  const GroupPolicy& For(const v1::Escalation& escalation) const;
  // Whether any group lets people on a call take URGENT escalations.
  bool AnyOnCallTakesUrgent() const;
};

// The policy without a file: one ring with every helper role, open at once.
RoutingPolicy DefaultRoutingPolicy();

// Parses and checks a policy; INVALID_ARGUMENT naming the place of the first problem.
absl::StatusOr<RoutingPolicy> ParseRoutingPolicy(const std::string& json);
absl::StatusOr<RoutingPolicy> LoadRoutingPolicy(const std::string& path);

}  // namespace backline::router
