// The escalation store on a real Redis: the queue keeps arrival order even when many escalations
// arrive within one millisecond, an escalation is stored together with its timers, many are read
// in one go as one is, and the escalations of a window are read page by page, each once, even
// while more are made.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/common/validation.h"
#include "services/router/escalation_rules.h"
#include "services/router/redis_escalation_store.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class EscalationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }

  // Creates an escalation at the fake clock's (unchanging) time.
  std::string Create(v1::Priority priority = v1::PRIORITY_NORMAL,
                     std::vector<router::RedisEscalationStore::Timer> timers = {}) {
    v1::CreateEscalationRequest request;
    request.set_question("kunden kan ikke se sin faktura");
    request.set_priority(priority);
    v1::Escalation e = router::NewEscalation(NewServerId("esc"), anna_, request, clock_.Now());
    auto id = escalations_.Create(e, "", timers, {}, /*bots_version=*/0, /*roster_stamp=*/"", {});
    EXPECT_TRUE(id.ok()) << id.status();
    return e.id();
  }

  // The ids ForEachCreatedSince visits, in order; stops after `stop_after` when positive.
  std::vector<std::string> CreatedSince(absl::Time from, int page, int stop_after = 0) {
    std::vector<std::string> seen;
    auto read = escalations_.ForEachCreatedSince(
        from,
        [&](const v1::Escalation& e) {
          seen.push_back(e.id());
          return stop_after <= 0 || static_cast<int>(seen.size()) < stop_after;
        },
        page);
    EXPECT_TRUE(read.ok()) << read;
    return seen;
  }

  int Position(const std::string& id) {
    auto stored = escalations_.Get(id);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? stored->escalation.queue_position() : -1;
  }

  store::RedisClient redis_{SharedRedis().client_options()};
  store::Keys keys_;
  FakeClock clock_;
  router::RedisEscalationStore escalations_{&redis_, &keys_, {}, &clock_};
  v1::Person anna_ = MakePerson("anna", v1::ROLE_AGENT);
};

TEST_F(EscalationStoreTest, SameMillisecondArrivalsKeepTheirOrder) {
  // The clock never moves: every escalation has the same creation time, and ids are random.
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(Create());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(Position(ids[i]), static_cast<int>(i) + 1) << "arrival " << i;
  }
  // Priority still comes first: an URGENT one created last is served first.
  const std::string urgent = Create(v1::PRIORITY_URGENT);
  EXPECT_EQ(Position(urgent), 1);
  EXPECT_EQ(Position(ids.back()), static_cast<int>(ids.size()) + 1);
}

TEST_F(EscalationStoreTest, TimersAreStoredWithTheEscalation) {
  const absl::Time due = clock_.Now() + absl::Minutes(5);
  const std::string id = Create(v1::PRIORITY_NORMAL, {{"wait|x|0", due}, {"expire|x|0", due}});
  EXPECT_EQ(redis_.Command({"ZSCORE", keys_.Timers(), "wait|x|0"})->AsInteger(),
            absl::ToUnixMillis(due));
  EXPECT_EQ(redis_.Command({"ZSCORE", keys_.Timers(), "expire|x|0"})->AsInteger(),
            absl::ToUnixMillis(due));
  EXPECT_EQ(Position(id), 1);
}

TEST_F(EscalationStoreTest, ManyAreReadInOneGoEachAsGetReadsIt) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Create());
  const std::string missing = NewServerId("esc");
  auto many = escalations_.GetMany({ids[2], missing, "not an id", ids[0], ids[1]});
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 5u);
  EXPECT_EQ((*many)[1].status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*many)[2].status().code(), absl::StatusCode::kInvalidArgument);
  for (auto [at, id] : {std::pair{0, ids[2]}, {3, ids[0]}, {4, ids[1]}}) {
    ASSERT_TRUE((*many)[at].ok()) << (*many)[at].status();
    auto one = escalations_.Get(id);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ((*many)[at]->escalation.SerializeAsString(), one->escalation.SerializeAsString());
    EXPECT_EQ((*many)[at]->thread_members, one->thread_members);
    EXPECT_EQ((*many)[at]->thread_last_seq, one->thread_last_seq);
  }
  EXPECT_EQ((*many)[0]->escalation.queue_position(), 3);
  auto none = escalations_.GetMany({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(EscalationStoreTest, AWindowIsReadPageByPageOldestFirstEachOnce) {
  Create();
  clock_.Advance(absl::Seconds(1));
  const absl::Time from = clock_.Now();
  // Pairs made in the same millisecond: Redis orders those by id, and a page may end between them.
  std::vector<std::pair<int64_t, std::string>> made;
  for (int i = 0; i < 11; ++i) {
    made.push_back({absl::ToUnixMillis(clock_.Now()), Create()});
    if (i % 2 == 1) clock_.Advance(absl::Milliseconds(1));
  }
  std::sort(made.begin(), made.end());
  std::vector<std::string> expected;
  for (const auto& [ms, id] : made) expected.push_back(id);
  for (int page : {1, 2, 3, 11, 256}) {
    EXPECT_EQ(CreatedSince(from, page), expected) << "page " << page;
  }
  const std::vector<std::string> four(expected.begin(), expected.begin() + 4);
  EXPECT_EQ(CreatedSince(from, 3, /*stop_after=*/4), four);
  EXPECT_TRUE(CreatedSince(clock_.Now() + absl::Seconds(1), 3).empty());
  // Where the newest k start: the k-th newest's millisecond (whose pair partner may come too).
  const absl::Time fourth = *escalations_.NewestCreatedSince(from, 4);
  EXPECT_EQ(absl::ToUnixMillis(fourth), made[made.size() - 4].first);
  const std::vector<std::string> newest = CreatedSince(fourth, 256);
  ASSERT_GE(newest.size(), 4u);
  ASSERT_LE(newest.size(), 5u);
  EXPECT_TRUE(std::equal(newest.begin(), newest.end(), expected.end() - newest.size()));
  EXPECT_EQ(*escalations_.NewestCreatedSince(from, 100), from);
  EXPECT_EQ(*escalations_.NewestCreatedSince(from, 1), absl::FromUnixMillis(made.back().first));
}

TEST_F(EscalationStoreTest, EscalationsMadeWhileAWindowIsReadMoveNothingThatWasThere) {
  // The clock never moves, so every escalation sorts by id among all the others: the worst case
  // for reading by position, where each one made meanwhile would shift those after it.
  std::set<std::string> there;
  for (int i = 0; i < 60; ++i) there.insert(Create());
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  std::atomic<int> written{0};
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 40 && !stop.load(); ++i) {
        Create();
        written.fetch_add(1);
      }
    });
  }
  int reads = 0;
  while (written.load() < 120 || reads < 3) {
    const std::vector<std::string> seen = CreatedSince(clock_.Now() - absl::Seconds(1), 4);
    ++reads;
    const std::set<std::string> once(seen.begin(), seen.end());
    EXPECT_EQ(once.size(), seen.size()) << "an escalation was visited twice in read " << reads;
    for (const std::string& id : there) {
      EXPECT_TRUE(once.count(id)) << id << " was there before read " << reads << " began";
    }
    if (HasFailure()) break;
  }
  stop.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(CreatedSince(clock_.Now() - absl::Seconds(1), 4).size(), 60u + written.load());
}

}  // namespace
}  // namespace backline::testing
