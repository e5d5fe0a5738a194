// The per-user event log: cursors grow, reading after a cursor is exact, events for several
// people go in one round trip, and trimming is detected as a gap rather than skipped silently.
#include "services/store/event_log.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/redis_server.h"

namespace backline::testing {
namespace {

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }
  store::RedisClient redis_{SharedRedis().client_options()};
  store::Keys keys_;
};

TEST_F(EventLogTest, ReadAfterCursorIsExactAndInOrder) {
  store::EventLog log(&redis_, &keys_, {});
  std::vector<std::string> cursors;
  for (int i = 0; i < 20; ++i) {
    auto c = log.Append("anna", absl::StrCat("e", i), 0);
    ASSERT_TRUE(c.ok()) << c.status();
    if (!cursors.empty()) {
      EXPECT_GT(store::CompareCursors(*c, cursors.back()), 0);
    }
    cursors.push_back(*c);
  }
  auto all = log.ReadAfter("anna", "0", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->gap);
  ASSERT_EQ(all->events.size(), 20u);
  EXPECT_EQ(all->last_cursor, cursors.back());
  auto tail = log.ReadAfter("anna", cursors[14], 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_FALSE(tail->gap);
  ASSERT_EQ(tail->events.size(), 5u);
  EXPECT_EQ(tail->events[0].payload, "e15");
  EXPECT_EQ(tail->events[0].prev, cursors[14]);
  auto none = log.ReadAfter("anna", cursors.back(), 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->events.empty());
  EXPECT_FALSE(none->gap);
  // Another user's log is separate.
  auto other = log.ReadAfter("bo", "0", 100);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->events.empty());
  EXPECT_FALSE(other->gap);
}

TEST_F(EventLogTest, ManyEventsForSeveralPeopleAreAppendedInOneRoundTrip) {
  store::EventLog log(&redis_, &keys_, {});
  auto first = log.Append("bo", "before", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  const long long before = RedisReadsProcessed(redis_);
  auto cursors = log.AppendMany({{"anna", "a1"}, {"bo", "b1"}, {"anna", "a2"}, {"cai", "c1"}}, 0);
  const long long after = RedisReadsProcessed(redis_);
  ASSERT_TRUE(cursors.ok()) << cursors.status();
  ASSERT_EQ(cursors->size(), 4u);
  EXPECT_EQ(after - before, 2) << "the append and the second INFO";
  // Each in its user's log, in order, chained to that user's previous event.
  auto anna = log.ReadAfter("anna", "0", 10);
  ASSERT_TRUE(anna.ok());
  ASSERT_EQ(anna->events.size(), 2u);
  EXPECT_EQ(anna->events[0].payload, "a1");
  EXPECT_EQ(anna->events[0].cursor, (*cursors)[0]);
  EXPECT_EQ(anna->events[1].payload, "a2");
  EXPECT_EQ(anna->events[1].prev, (*cursors)[0]);
  EXPECT_EQ(anna->events[1].cursor, (*cursors)[2]);
  auto bo = log.ReadAfter("bo", "0", 10);
  ASSERT_TRUE(bo.ok());
  ASSERT_EQ(bo->events.size(), 2u);
  EXPECT_EQ(bo->events[1].payload, "b1");
  EXPECT_EQ(bo->events[1].prev, *first);
  EXPECT_EQ(bo->events[1].cursor, (*cursors)[1]);
  auto cai = log.ReadAfter("cai", "0", 10);
  ASSERT_TRUE(cai.ok());
  ASSERT_EQ(cai->events.size(), 1u);
  EXPECT_EQ(cai->events[0].cursor, (*cursors)[3]);
  auto none = log.AppendMany({}, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(EventLogTest, TrimmedEventsAreAGap) {
  store::EventLogConfig config;
  config.max_len = 10;
  store::EventLog log(&redis_, &keys_, config);
  std::vector<std::string> cursors;
  for (int i = 0; i < 500; ++i) cursors.push_back(*log.Append("anna", absl::StrCat("e", i), 0));
  auto from_start = log.ReadAfter("anna", "0", 1000);
  ASSERT_TRUE(from_start.ok());
  EXPECT_TRUE(from_start->gap);
  EXPECT_LT(from_start->events.size(), 500u);
  EXPECT_EQ(from_start->events.back().payload, "e499");
  auto from_old = log.ReadAfter("anna", cursors[3], 1000);
  ASSERT_TRUE(from_old.ok());
  EXPECT_TRUE(from_old->gap);
  // A cursor still retained reads without a gap.
  auto from_recent = log.ReadAfter("anna", cursors[495], 1000);
  ASSERT_TRUE(from_recent.ok());
  EXPECT_FALSE(from_recent->gap);
  EXPECT_EQ(from_recent->events.size(), 4u);
}

// Age counts on Redis's clock (the entries' ids): once the old entries are past the maximum age,
// the next append drops them (in whole stream nodes) and a reader from before is told of the gap.
TEST_F(EventLogTest, EventsPastTheMaximumAgeAreDropped) {
  store::EventLogConfig config;
  config.max_age = absl::Milliseconds(300);
  store::EventLog log(&redis_, &keys_, config);
  const std::string first = *log.Append("anna", "e0", 0);
  for (int i = 1; i < 250; ++i) ASSERT_TRUE(log.Append("anna", absl::StrCat("e", i), 0).ok());
  EXPECT_EQ(redis_.Command({"XLEN", keys_.Events("anna")})->integer, 250) << "trimmed too soon";
  absl::SleepFor(absl::Milliseconds(400));
  ASSERT_TRUE(log.Append("anna", "late", 0).ok());
  EXPECT_LT(redis_.Command({"XLEN", keys_.Events("anna")})->integer, 200);
  auto page = log.ReadAfter("anna", first, 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->gap);
  EXPECT_EQ(page->events.back().payload, "late");
}

TEST_F(EventLogTest, UnknownCursorIsAGapToo) {
  store::EventLog log(&redis_, &keys_, {});
  ASSERT_TRUE(log.Append("anna", "e0", 0).ok());
  // A cursor from before a data loss, or from another deployment.
  auto page = log.ReadAfter("anna", "9999999999999-0", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->gap);
}

}  // namespace
}  // namespace backline::testing
