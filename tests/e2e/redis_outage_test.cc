// When Redis is down or hangs, every call fails with UNAVAILABLE within its deadline — no crash,
// no hang — and the server serves again, streams included, once Redis is back.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(3);

class RedisOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A server of our own with an append-only file, so that data survives the restart.
    RedisServer::Options options;
    options.appendonly = true;
    redis_ = std::make_unique<RedisServer>(options);
    ServerConfig config = TestConfig(*redis_);
    config.redis.command_timeout = absl::Milliseconds(500);
    stack_ = std::make_unique<TestStack>(config, Stack::kAll);
    stack_->ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}})});
    ClientOptions o;
    o.target = stack_->target();
    o.deadline = kDeadline;
    o.token = stack_->Token("anna", v1::ROLE_AGENT);
    anna_ = std::make_unique<Client>(o);
    o.token = stack_->Token("soren", v1::ROLE_SENIOR);
    soren_ = std::make_unique<Client>(o);
  }

  v1::CreateEscalationRequest Question() {
    v1::CreateEscalationRequest r;
    r.set_question("where is the refund?");
    r.set_language("da");
    r.add_skills()->set_skill("billing");
    return r;
  }

  // Runs `call`; expects UNAVAILABLE before the deadline.
  template <typename Fn>
  void ExpectUnavailableInTime(Fn&& call, const std::string& what) {
    const absl::Time start = absl::Now();
    absl::Status st = call();
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << what << ": " << st;
    EXPECT_LT(took, kDeadline) << what << " took " << took;
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_;
};

TEST_F(RedisOutageTest, DownMeansUnavailableThenRecovers) {
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto stream = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));

  redis_->Kill();
  ExpectUnavailableInTime([&] { return anna_->Escalate(Question()).status(); }, "escalate");
  ExpectUnavailableInTime([&] { return soren_->GetPresence().status(); }, "get presence");
  ExpectUnavailableInTime([&] { return soren_->SetStatus(v1::PRESENCE_STATUS_BREAK).status(); },
                          "set status");
  ExpectUnavailableInTime([&] { return anna_->Post("thr-0000000000", "hi").status(); }, "post");
  // The reads of a window of escalations (page by page) fail the same way.
  ClientOptions o;
  o.target = stack_->target();
  o.deadline = kDeadline;
  o.token = stack_->Token("root", v1::ROLE_ADMIN);
  Client admin(o);
  ExpectUnavailableInTime([&] { return admin.GetStats(v1::GetStatsRequest()).status(); },
                          "service level");
  v1::ListEscalationsRequest site;
  site.set_scope(v1::ESCALATION_SCOPE_SITE);
  ExpectUnavailableInTime([&] { return admin.ListEscalations(site).status(); }, "site's list");
  auto fresh = soren_->Subscribe("0");
  auto first = fresh->Next(kDeadline);
  ASSERT_FALSE(first.ok()) << "a new stream should end while Redis is down";
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable) << first.status();

  redis_->Start();
  // The server serves again without a restart; the stream opened before the outage resumes.
  absl::StatusOr<v1::Escalation> created;
  for (int i = 0; i < 50; ++i) {
    created = anna_->Escalate(Question());
    if (created.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->offer().helper(), "soren");
  auto offer = WaitForEvent(
      *stream, [](const v1::Event& e) { return e.has_offer(); }, absl::Seconds(10));
  ASSERT_TRUE(offer.has_value()) << "the stream did not resume after Redis came back";
  EXPECT_EQ(offer->offer().escalation().id(), created->id());
}

TEST_F(RedisOutageTest, HungRedisMeansUnavailableWithinTheDeadline) {
  ::kill(redis_->pid(), SIGSTOP);
  ExpectUnavailableInTime([&] { return anna_->Escalate(Question()).status(); }, "escalate");
  ExpectUnavailableInTime([&] { return soren_->GetPresence().status(); }, "get presence");
  ::kill(redis_->pid(), SIGCONT);
  absl::StatusOr<v1::Presence> p;
  for (int i = 0; i < 50 && !(p = soren_->GetPresence()).ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(p.ok()) << p.status();
}

// Many calls at once while Redis hangs: each would hold one of the server's few handler threads
// for the whole Redis command timeout, and the calls behind them would wait their turn past
// their deadline. Once one command went unanswered the server answers the rest at once, and
// serves again as soon as Redis answers.
TEST_F(RedisOutageTest, CallsPilingUpOnAHungRedisAllAnswerUnavailableInTime) {
  ASSERT_TRUE(soren_->GetPresence().ok());
  ::kill(redis_->pid(), SIGSTOP);
  constexpr int kCallers = 16, kEach = 2;
  std::atomic<int> unavailable{0}, late{0}, other{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) {
        const absl::Time start = absl::Now();
        absl::Status st = soren_->GetPresence().status();
        if (absl::Now() - start >= kDeadline) ++late;
        if (st.code() == absl::StatusCode::kUnavailable) {
          ++unavailable;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), kCallers * kEach) << other.load() << " calls answered otherwise";
  EXPECT_EQ(late.load(), 0) << "calls answered after their deadline";
  ::kill(redis_->pid(), SIGCONT);
  absl::StatusOr<v1::Presence> p;
  for (int i = 0; i < 50 && !(p = soren_->GetPresence()).ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(p.ok()) << p.status();
}

}  // namespace
}  // namespace backline::testing
