// Service-level figures from escalations added one at a time: counts, nearest-rank percentiles,
// the window and site filters, per skill and per team.
#include "services/router/stats.h"

#include <gtest/gtest.h>

#include <string>

#include "google/protobuf/util/time_util.h"
#include "services/common/events.h"

namespace backline::router {
namespace {

using google::protobuf::util::TimeUtil;

const absl::Time kFrom = absl::FromUnixSeconds(1'800'000'000);

// An escalation created `at` seconds into the window, offered and accepted after the given
// milliseconds (negative: not).
v1::Escalation Made(int at, int offered_ms, int accepted_ms, v1::EscalationState state,
                    const std::string& skill = "billing", const std::string& team = "cph-billing",
                    const std::string& site = "cph") {
  v1::Escalation e;
  e.set_site(site);
  e.set_team(team);
  e.add_skills()->set_skill(skill);
  e.set_state(state);
  const absl::Time created = kFrom + absl::Seconds(at);
  auto* t = e.mutable_timeline();
  *t->mutable_create_time() = ToProtoTime(created);
  if (offered_ms >= 0) {
    *t->mutable_first_offer_time() = ToProtoTime(created + absl::Milliseconds(offered_ms));
  }
  if (accepted_ms >= 0) {
    *t->mutable_accept_time() = ToProtoTime(created + absl::Milliseconds(accepted_ms));
  }
  return e;
}

TEST(StatsBuilderTest, CountsAndPercentilesOfTheWindowAndSite) {
  StatsBuilder b(kFrom, kFrom + absl::Hours(1), "cph");
  for (int i = 1; i <= 10; ++i) {
    b.Add(Made(i, 100 * i, 1000 * i, v1::ESCALATION_STATE_RESOLVED));
  }
  b.Add(Made(20, -1, -1, v1::ESCALATION_STATE_QUEUED, "tech", "cph-tech"));
  b.Add(Made(30, 50, -1, v1::ESCALATION_STATE_CANCELLED, "tech", "cph-tech"));
  b.Add(Made(40, -1, -1, v1::ESCALATION_STATE_EXPIRED));
  // Left out: before the window, after it, another site.
  b.Add(Made(-1, 1, 1, v1::ESCALATION_STATE_RESOLVED));
  b.Add(Made(3601, 1, 1, v1::ESCALATION_STATE_RESOLVED));
  b.Add(Made(5, 1, 1, v1::ESCALATION_STATE_RESOLVED, "billing", "ams-billing", "ams"));
  const v1::Stats s = b.Finish();
  EXPECT_EQ(TimeUtil::TimestampToSeconds(s.from_time()), absl::ToUnixSeconds(kFrom));
  const v1::StatsBucket& t = s.total();
  EXPECT_EQ(t.key(), "total");
  EXPECT_EQ(t.created(), 13);
  EXPECT_EQ(t.offered(), 11);
  EXPECT_EQ(t.accepted(), 10);
  EXPECT_EQ(t.resolved(), 10);
  EXPECT_EQ(t.cancelled(), 1);
  EXPECT_EQ(t.expired(), 1);
  EXPECT_EQ(t.waiting(), 1);
  // Nearest rank of 11 offer times (50, 100, ..., 1000): p50 the 6th, p90 the 10th.
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(t.time_to_offer_p50()), 500);
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(t.time_to_offer_p90()), 900);
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(t.time_to_accept_p50()), 5000);
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(t.time_to_accept_p90()), 9000);
  ASSERT_EQ(s.by_skill_size(), 2);
  EXPECT_EQ(s.by_skill(0).key(), "billing");
  EXPECT_EQ(s.by_skill(0).created(), 11);
  EXPECT_EQ(s.by_skill(1).key(), "tech");
  EXPECT_EQ(s.by_skill(1).created(), 2);
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(s.by_skill(1).time_to_offer_p50()), 50);
  EXPECT_FALSE(s.by_skill(1).has_time_to_accept_p50());
  ASSERT_EQ(s.by_team_size(), 2);
  EXPECT_EQ(s.by_team(1).key(), "cph-tech");
  EXPECT_EQ(s.by_team(1).cancelled(), 1);
}

TEST(StatsBuilderTest, NoSiteMeansEverySite) {
  StatsBuilder b(kFrom, kFrom + absl::Hours(1), "");
  b.Add(Made(1, 1, 1, v1::ESCALATION_STATE_RESOLVED, "billing", "cph-billing", "cph"));
  b.Add(Made(2, 1, 1, v1::ESCALATION_STATE_RESOLVED, "billing", "ams-billing", "ams"));
  const v1::Stats s = b.Finish();
  EXPECT_EQ(s.total().created(), 2);
  EXPECT_EQ(s.by_team_size(), 2);
  EXPECT_EQ(s.by_skill_size(), 1);
}

}  // namespace
}  // namespace backline::router
