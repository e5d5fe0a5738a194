// The escalation store on a real Redis: the queue keeps arrival order even when many escalations
// arrive within one millisecond, and an escalation is stored together with its timers.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace backline::testing
