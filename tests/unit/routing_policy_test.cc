// The routing policy file: what it accepts, and a precise complaint about what it does not.
#include "services/router/routing_policy.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace backline::router {
namespace {

TEST(RoutingPolicyTest, TheShippedPolicyLoads) {
  auto p =
      LoadRoutingPolicy(absl::StrCat(BACKLINE_TEST_DATA_DIR, "/../../deploy/routing-policy.json"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->default_group.rings.size(), 4u);
  EXPECT_TRUE(p->default_group.rings[0].mentor);
  EXPECT_EQ(p->default_group.rings[0].scope, Ring::Scope::kTeam);
  v1::Escalation refunds;
  refunds.add_skills()->set_skill("refunds");
  EXPECT_EQ(p->For(refunds).name, "billing");
  EXPECT_EQ(p->For(refunds).order, GroupPolicy::Order::kLongestIdle);
  EXPECT_EQ(p->For(refunds).parallel_offers, 2);
  v1::Escalation other;
  other.add_skills()->set_skill("hardware");
  EXPECT_EQ(p->For(other).name, "default");
}

TEST(RoutingPolicyTest, OrdersAndOnCallForUrgent) {
  const std::pair<const char*, GroupPolicy::Order> orders[] = {
      {"proficiency", GroupPolicy::Order::kProficiency},
      {"longest_idle", GroupPolicy::Order::kLongestIdle},
      {"least_loaded", GroupPolicy::Order::kLeastLoaded},
      {"round_robin", GroupPolicy::Order::kRoundRobin}};
  for (const auto& [name, order] : orders) {
    auto p = ParseRoutingPolicy(absl::StrCat(R"({"groups": {"default": {"order": ")", name,
                                             R"(", "rings": [{"name": "all"}]}}})"));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->default_group.order, order) << name;
    EXPECT_FALSE(p->AnyOnCallTakesUrgent());
  }
  auto p = ParseRoutingPolicy(R"({"groups": {"default": {"rings": [{}]},
      "urgent": {"on_call_takes_urgent": true, "rings": [{}]}}, "skills": {"fraud": "urgent"}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->AnyOnCallTakesUrgent());
  EXPECT_FALSE(p->default_group.on_call_takes_urgent);
  EXPECT_TRUE(p->groups.at("urgent").on_call_takes_urgent);
}

TEST(RoutingPolicyTest, MistakesAreNamedPrecisely) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"groups": {"default": {"order": "fastest", "rings": [{}]}}})",
       "groups.default.order: must be proficiency, longest_idle, least_loaded or round_robin"},
      {R"({"groups": {"default": {"on_call": true, "rings": [{}]}}})",
       "groups.default: unknown field \"on_call\""},
      {R"({"groups": {"default": {"on_call_takes_urgent": "yes", "rings": [{}]}}})",
       "groups.default.on_call_takes_urgent: must be true or false"},
      {R"({"groups": {"default": {"rings": []}}})", "groups.default.rings: at least one ring"},
      {R"({"groups": {"default": {"parallel_offers": 6, "rings": [{}]}}})",
       "groups.default.parallel_offers: must be 1..5"},
      {R"({"groups": {"default": {"rings": [{"open_after_seconds": 20}, {}]}}})",
       "groups.default.rings[1]: rings must open in order"},
      {R"({"groups": {"default": {"rings": [{"roles": ["agent"]}]}}})",
       "groups.default.rings[0].roles: roles are senior, team_leader and supervisor"},
      {R"({"groups": {"default": {"rings": [{"min_proficiency": 6}]}}})",
       "groups.default.rings[0].min_proficiency: must be 0..5"},
      {R"({"groups": {"default": {"rings": [{"colour": "red"}]}}})",
       "groups.default.rings[0]: unknown field \"colour\""},
      {R"({"groups": {"default": {"rings": [{}]}}, "skills": {"billing": "nope"}})",
       "skills.billing: must name a group"},
      {R"({"groups": {"default": {"expire_after_seconds": -1, "rings": [{}]}}})",
       "groups.default.expire_after_seconds: must be a number of seconds"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"groups": )", "not valid JSON"},
  };
  for (const auto& [json, message] : cases) {
    auto p = ParseRoutingPolicy(json);
    ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_NE(p.status().message().find(message), std::string::npos)
        << json << " -> " << p.status().message();
  }
}

}  // namespace
}  // namespace backline::router
