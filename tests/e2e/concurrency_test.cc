// The atomic guarantees, raced: one winner per offer, capacity never exceeded with several
// server instances routing at once, every escalation ending in exactly one final state, a
// retried post stored exactly once, and posts through several instances numbered and delivered
// once each.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/router/routing_policy.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

v1::CreateEscalationRequest BillingQuestion(int i) {
  v1::CreateEscalationRequest r;
  r.set_question(absl::StrCat("question ", i));
  r.set_language("da");
  r.add_skills()->set_skill("billing");
  return r;
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }
  void CapacityRace(int parallel_offers);
};

TEST_F(ConcurrencyTest, RacingAcceptsHaveExactlyOneWinner) {
  TestStack a(SharedRedis()), b(SharedRedis());
  a.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                 MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"}, 20)});
  // The same senior on eight desktops, half on each server instance.
  std::vector<std::unique_ptr<Client>> desktops;
  for (int i = 0; i < 8; ++i) {
    desktops.push_back((i % 2 ? a : b).ClientFor("soren", v1::ROLE_SENIOR));
  }
  ASSERT_TRUE(desktops[0]->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto anna = a.ClientFor("anna", v1::ROLE_AGENT);
  for (int round = 0; round < 20; ++round) {
    auto e = anna->Escalate(BillingQuestion(round));
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED);
    std::atomic<int> winners{0}, refused{0}, other{0};
    std::vector<std::thread> threads;
    for (auto& d : desktops) {
      threads.emplace_back([&, client = d.get()] {
        auto r = client->AcceptOffer(e->id());
        if (r.ok()) {
          ++winners;
        } else if (r.status().code() == absl::StatusCode::kFailedPrecondition) {
          ++refused;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), static_cast<int>(desktops.size()) - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0);
    ASSERT_TRUE(anna->ResolveEscalation(e->id()).ok());
  }
  EXPECT_EQ(desktops[0]->GetPresence()->load(), 0);
}

// Three server instances route one shared Redis while agents escalate concurrently and helpers
// accept, decline or ignore offers and resolve what they accepted. Throughout, no helper holds
// more than its capacity; at the end every escalation is in exactly one final state and every
// helper's load is back to zero.
void ConcurrencyTest::CapacityRace(int parallel_offers) {
  ServerConfig config = TestConfig(SharedRedis());
  auto policy = router::ParseRoutingPolicy(
      absl::StrCat(R"({"groups": {"default": {"broadcast_after_seconds": 0, "parallel_offers": )",
                   parallel_offers, R"(, "rings": [{"name": "everyone"}]}}})"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  config.routing.policy = *policy;
  config.routing.offer_timeout = absl::Milliseconds(400);
  config.routing.max_missed_offers = 1000;  // keep everyone in play
  std::vector<std::unique_ptr<TestStack>> stacks;
  for (int i = 0; i < 3; ++i) stacks.push_back(std::make_unique<TestStack>(config, Stack::kAll));

  std::vector<v1::Person> roster;
  std::map<std::string, int> capacity;
  for (int i = 0; i < 4; ++i)
    roster.push_back(MakePerson(absl::StrCat("agent", i), v1::ROLE_AGENT));
  for (int i = 0; i < 8; ++i) {
    const std::string id = absl::StrCat("helper", i);
    capacity[id] = 1 + i % 2;
    roster.push_back(
        MakePerson(id, v1::ROLE_SENIOR, {{"billing", 2 + i % 4}}, {"da"}, capacity[id]));
  }
  stacks[0]->ApplyRoster(roster);

  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::mutex mu;
  std::map<std::string, std::string> accepted_by;  // escalation -> helper
  int double_accepts = 0;

  // Helpers: each listens on one instance and answers offers.
  std::vector<std::thread> helpers;
  for (int i = 0; i < 8; ++i) {
    helpers.emplace_back([&, i] {
      const std::string id = absl::StrCat("helper", i);
      auto client = stacks[i % 3]->ClientFor(id, v1::ROLE_SENIOR);
      auto stream = client->Subscribe("");
      client->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).IgnoreError();
      std::mt19937 rng(i);
      while (!stop.load()) {
        auto ev = stream->Next(absl::Milliseconds(100));
        if (!ev.ok()) return;
        if (!ev->has_value() || !(*ev)->has_offer()) continue;
        const std::string esc = (*ev)->offer().escalation().id();
        const int choice = static_cast<int>(rng() % 10);
        if (choice < 6) {
          auto r = client->AcceptOffer(esc);
          if (r.ok()) {
            {
              std::lock_guard<std::mutex> lock(mu);
              if (!accepted_by.emplace(esc, id).second) ++double_accepts;
            }
            absl::SleepFor(absl::Milliseconds(rng() % 30));
            client->ResolveEscalation(esc).IgnoreError();
          }
        } else if (choice < 8) {
          client->DeclineOffer(esc).IgnoreError();
        }  // else: ignore it and let it lapse
      }
    });
  }
  // The invariant, sampled straight from Redis while everything runs.
  std::thread sampler([&] {
    while (!stop.load()) {
      for (const auto& [id, cap] : capacity) {
        auto load = SharedRedis().Command({"HGET", "bl:presence:" + id, "load"}).AsInteger();
        if (load > cap || load < 0) ++violations;
      }
    }
  });

  // Agents escalate concurrently through all instances.
  constexpr int kPerAgent = 15;
  std::vector<std::thread> agents;
  std::mutex created_mu;
  std::vector<std::pair<int, std::string>> created;  // agent, escalation
  for (int a = 0; a < 4; ++a) {
    agents.emplace_back([&, a] {
      for (int k = 0; k < kPerAgent; ++k) {
        auto client = stacks[(a + k) % 3]->ClientFor(absl::StrCat("agent", a), v1::ROLE_AGENT);
        auto e = client->Escalate(BillingQuestion(a * 100 + k));
        if (e.ok()) {
          std::lock_guard<std::mutex> lock(created_mu);
          created.emplace_back(a, e->id());
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
  }
  for (auto& t : agents) t.join();
  ASSERT_EQ(created.size(), 4u * kPerAgent);

  // Let routing run until nothing is offered or accepted any more (declines and lapses can leave
  // some queued), then the agents cancel whatever still waits.
  auto all_settled = [&] {
    for (const auto& [a, id] : created) {
      auto e = stacks[0]->ClientFor(absl::StrCat("agent", a), v1::ROLE_AGENT)->GetEscalation(id);
      if (!e.ok()) return false;
      if (e->state() == v1::ESCALATION_STATE_OFFERED ||
          e->state() == v1::ESCALATION_STATE_ACCEPTED) {
        return false;
      }
    }
    return true;
  };
  const absl::Time settle_deadline = absl::Now() + absl::Seconds(60);
  while (!all_settled() && absl::Now() < settle_deadline) absl::SleepFor(absl::Milliseconds(200));
  stop.store(true);
  for (auto& t : helpers) t.join();
  sampler.join();

  for (const auto& [a, id] : created) {
    auto agent = stacks[1]->ClientFor(absl::StrCat("agent", a), v1::ROLE_AGENT);
    auto e = agent->GetEscalation(id);
    ASSERT_TRUE(e.ok());
    if (e->state() == v1::ESCALATION_STATE_QUEUED || e->state() == v1::ESCALATION_STATE_OFFERED) {
      auto c = agent->CancelEscalation(id);
      // It may have been offered and lapsed in between; cancelling works from any live state.
      EXPECT_TRUE(c.ok()) << c.status();
    }
  }
  int resolved = 0;
  for (const auto& [a, id] : created) {
    auto e = stacks[2]->ClientFor(absl::StrCat("agent", a), v1::ROLE_AGENT)->GetEscalation(id);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->state() == v1::ESCALATION_STATE_RESOLVED ||
                e->state() == v1::ESCALATION_STATE_CANCELLED)
        << id << " ended " << v1::EscalationState_Name(e->state());
    if (e->state() == v1::ESCALATION_STATE_RESOLVED) {
      ++resolved;
      EXPECT_EQ(e->helper(), accepted_by[id]);
    }
  }
  EXPECT_EQ(violations.load(), 0) << "a helper held more than its capacity";
  EXPECT_EQ(double_accepts, 0) << "an escalation was accepted twice";
  EXPECT_EQ(resolved, static_cast<int>(accepted_by.size()));
  EXPECT_GT(resolved, 0);
  for (const auto& [id, cap] : capacity) {
    EXPECT_EQ(SharedRedis().Command({"HGET", "bl:presence:" + id, "load"}).AsInteger(), 0) << id;
    EXPECT_EQ(SharedRedis().Command({"HGET", "bl:presence:" + id, "offers"}).AsInteger(), 0) << id;
  }
}

TEST_F(ConcurrencyTest, CapacityNeverExceededWithSeveralInstances) { CapacityRace(1); }

// The same with every escalation offered to three helpers at once: still one winner each.
TEST_F(ConcurrencyTest, CapacityNeverExceededWithParallelOffers) { CapacityRace(3); }

TEST_F(ConcurrencyTest, RetriedPostWithSameClientIdIsStoredOnce) {
  TestStack a(SharedRedis()), b(SharedRedis());
  a.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                 MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"})});
  auto anna = a.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = a.ClientFor("soren", v1::ROLE_SENIOR);
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna->Escalate(BillingQuestion(1));
  ASSERT_TRUE(e.ok());
  auto acc = soren->AcceptOffer(e->id());
  ASSERT_TRUE(acc.ok());
  const std::string thread = acc->thread_id();

  // The same post, retried eight times at once through two instances, plus soren posting.
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> seqs;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto client = (i % 2 ? a : b).ClientFor("anna", v1::ROLE_AGENT);
      auto m = client->Post(thread, "Kunden har ventet længe", "cmid-42");
      ASSERT_TRUE(m.ok()) << m.status();
      std::lock_guard<std::mutex> lock(mu);
      seqs.insert(m->seq());
    });
    threads.emplace_back([&] { ASSERT_TRUE(soren->Post(thread, "ok").ok()); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seqs.size(), 1u) << "the retried post got several sequence numbers";
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  auto history = anna->ListMessages(list);
  ASSERT_TRUE(history.ok());
  int copies = 0;
  for (int i = 0; i < history->messages_size(); ++i) {
    EXPECT_EQ(history->messages(i).seq(), i + 1) << "sequence numbers must be dense";
    if (history->messages(i).client_msg_id() == "cmid-42") ++copies;
  }
  EXPECT_EQ(copies, 1);
  EXPECT_EQ(history->messages_size(), 1 + 1 + 8);  // system, anna once, soren eight times
}

// Each instance numbers a post from the copy of the thread it kept from its last one; posts
// racing through three instances must still get every number once, with no gap, and reach the
// reader once each.
TEST_F(ConcurrencyTest, PostsRacingThroughSeveralInstancesAreNumberedAndDeliveredOnce) {
  TestStack a(SharedRedis()), b(SharedRedis()), c(SharedRedis());
  a.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT), MakePerson("bo", v1::ROLE_AGENT)});
  auto anna = a.ClientFor("anna", v1::ROLE_AGENT);
  auto opened = anna->OpenDirectThread("bo");
  ASSERT_TRUE(opened.ok()) << opened.status();
  const std::string thread = opened->id();
  auto bo = a.ClientFor("bo", v1::ROLE_AGENT);
  auto reader = bo->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*reader, [](const v1::Event& e) { return e.has_caught_up(); }));

  constexpr int kWriters = 6, kEach = 20;
  std::vector<std::thread> writers;
  std::mutex mu;
  std::vector<int64_t> seqs;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      TestStack& via = w % 3 == 0 ? a : w % 3 == 1 ? b : c;
      auto client = via.ClientFor(w % 2 ? "bo" : "anna", v1::ROLE_AGENT);
      for (int i = 0; i < kEach; ++i) {
        auto m = client->Post(thread, absl::StrCat("w", w, " ", i, " Kunden spørger igen"));
        ASSERT_TRUE(m.ok()) << m.status();
        std::lock_guard<std::mutex> lock(mu);
        seqs.push_back(m->seq());
      }
    });
  }
  for (auto& t : writers) t.join();
  std::sort(seqs.begin(), seqs.end());
  ASSERT_EQ(seqs.size(), static_cast<size_t>(kWriters * kEach));
  for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], static_cast<int64_t>(i + 1));

  std::map<int64_t, int> delivered;
  int total = 0;
  while (total < kWriters * kEach) {
    auto e = WaitForEvent(*reader, [](const v1::Event& ev) { return ev.has_message_posted(); });
    ASSERT_TRUE(e.has_value()) << "only " << total << " posts reached the reader";
    ++delivered[e->message_posted().message().seq()];
    ++total;
  }
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kWriters * kEach));
  for (const auto& [seq, n] : delivered) EXPECT_EQ(n, 1) << "message " << seq;
  EXPECT_FALSE(WaitForEvent(*reader, [](const v1::Event& ev) { return ev.has_message_posted(); },
                            absl::Milliseconds(300)))
      << "a post was delivered twice";
}

// The client gives up on a post before the answer comes (deadline, cut connection) although the
// server goes on to store it, and retries with the same client message id: the thread ends up
// with the message exactly once, and the retry gets the stored one back.
TEST_F(ConcurrencyTest, PostsRetriedAfterTheClientGaveUpAreStoredOnce) {
  RedisServer redis;
  ServerConfig config = TestConfig(redis);
  config.redis.command_timeout = absl::Seconds(5);  // the server waits out a frozen Redis
  TestStack stack(config, Stack::kAll);
  stack.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                     MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"})});
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna->Escalate(BillingQuestion(1));
  ASSERT_TRUE(e.ok());
  auto acc = soren->AcceptOffer(e->id());
  ASSERT_TRUE(acc.ok());
  const std::string thread = acc->thread_id();
  ClientOptions hasty;
  hasty.target = stack.target();
  hasty.token = stack.Token("anna", v1::ROLE_AGENT);
  hasty.deadline = absl::Milliseconds(300);
  Client impatient(hasty);
  for (int i = 0; i < 3; ++i) {
    const std::string cmid = absl::StrCat("retry-", i);
    // Redis freezes while the post is under way: the client gives up...
    ::kill(redis.pid(), SIGSTOP);
    auto first = impatient.Post(thread, absl::StrCat("m", i), cmid);
    EXPECT_EQ(first.status().code(), absl::StatusCode::kDeadlineExceeded) << first.status();
    // ...and when Redis comes back the server finishes storing it.
    ::kill(redis.pid(), SIGCONT);
    absl::SleepFor(absl::Milliseconds(200));
    auto retried = anna->Post(thread, absl::StrCat("m", i), cmid);
    ASSERT_TRUE(retried.ok()) << retried.status();
    EXPECT_EQ(retried->seq(), i + 2);
  }
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  auto history = anna->ListMessages(list);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->messages_size(), 4);  // the system message and each text once
  for (int i = 0; i < 3; ++i) EXPECT_EQ(history->messages(i + 1).text(), absl::StrCat("m", i));
}

}  // namespace
}  // namespace backline::testing
