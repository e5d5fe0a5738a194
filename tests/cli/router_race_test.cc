// The routing invariants under fire: four backline-router processes on one Redis, 500
// escalations from ten agents, thirty helpers accepting, declining or letting offers lapse at
// random while five of them flip their status, and one router killed with SIGKILL midway. No
// helper ever holds more than its capacity, no escalation is accepted twice, none is lost, and
// each ends in exactly one final state.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

constexpr int kRouters = 4;
constexpr int kAgents = 10;
constexpr int kHelpers = 30;
constexpr int kFlippers = 5;  // helpers that also change status at random
constexpr int kEscalations = 500;

class RouterRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    std::ofstream(dir_ + "/secret") << kTestSecret << "\n";
    std::ofstream(dir_ + "/router.json")
        << R"({"routing": {"offer_timeout_seconds": 0.4, "max_missed_offers": 100}})";
  }

  TempDir tmp_{"backline-race"};
  const std::string dir_ = tmp_.path();
};

TEST_F(RouterRaceTest, InvariantsHoldWithFourRoutersAndOneKilled) {
  // Presence and the event streams in this process; routing in four processes.
  TestStack stack(SharedRedis(), Stack::kPresence | Stack::kChat);
  std::vector<v1::Person> roster;
  std::map<std::string, int> capacity;
  for (int i = 0; i < kAgents; ++i)
    roster.push_back(MakePerson(absl::StrCat("agent", i), v1::ROLE_AGENT));
  for (int i = 0; i < kHelpers; ++i) {
    const std::string id = absl::StrCat("helper", i);
    capacity[id] = 1 + i % 3;
    roster.push_back(
        MakePerson(id, v1::ROLE_SENIOR, {{"billing", 1 + i % 5}}, {"da"}, capacity[id]));
  }
  stack.ApplyRoster(roster);

  std::vector<std::unique_ptr<BackgroundProcess>> routers;
  std::vector<std::string> targets;
  for (int r = 0; r < kRouters; ++r) {
    const int port = FreePort();
    targets.push_back(absl::StrCat("127.0.0.1:", port));
    routers.push_back(std::make_unique<BackgroundProcess>(std::vector<std::string>{
        BACKLINE_ROUTER_PATH, "--config", dir_ + "/router.json", "--listen", targets.back(),
        "--redis", absl::StrCat("127.0.0.1:", SharedRedis().port()), "--token_secret_file",
        dir_ + "/secret"}));
  }
  std::atomic<int> dead_router{-1};
  // A client per person and router; calls go to a random live router, and move on from a dead
  // one.
  auto clients_for = [&](const std::string& id, v1::Role role) {
    std::vector<std::unique_ptr<Client>> out;
    for (const std::string& t : targets) {
      ClientOptions o;
      o.target = t;
      o.token = stack.Token(id, role);
      o.deadline = absl::Seconds(3);
      out.push_back(std::make_unique<Client>(o));
    }
    return out;
  };
  for (auto& c : clients_for("agent0", v1::ROLE_AGENT)) {
    ASSERT_TRUE(c->WaitForConnected(absl::Seconds(10))) << "a router did not come up";
  }
  auto call = [&](std::vector<std::unique_ptr<Client>>& cs, std::mt19937& rng, auto fn) {
    for (int tries = 0; tries < 8; ++tries) {
      int r = static_cast<int>(rng() % kRouters);
      if (r == dead_router.load()) r = (r + 1) % kRouters;
      auto result = fn(*cs[r]);
      if (result.status().code() != absl::StatusCode::kUnavailable) return result;
    }
    return fn(*cs[(dead_router.load() + 1) % kRouters]);
  };

  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, accepts{0};
  std::mutex mu;
  std::map<std::string, std::string> accepted_by;
  int double_accepts = 0;

  std::vector<std::thread> threads;
  for (int i = 0; i < kHelpers; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = absl::StrCat("helper", i);
      auto cs = clients_for(id, v1::ROLE_SENIOR);
      auto own = stack.ClientFor(id, v1::ROLE_SENIOR);
      auto events = own->Subscribe("");
      own->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).IgnoreError();
      std::mt19937 rng(i * 7 + 1);
      absl::Time next_flip = absl::Now();
      while (!stop.load()) {
        if (i < kFlippers && absl::Now() >= next_flip) {
          own->SetStatus(rng() % 3 == 0 ? v1::PRESENCE_STATUS_BREAK : v1::PRESENCE_STATUS_AVAILABLE)
              .IgnoreError();
          next_flip = absl::Now() + absl::Milliseconds(50 + rng() % 150);
        }
        auto ev = events->Next(absl::Milliseconds(50));
        if (!ev.ok()) return;
        if (!ev->has_value() || !(*ev)->has_offer()) continue;
        const std::string esc = (*ev)->offer().escalation().id();
        const int choice = static_cast<int>(rng() % 20);
        if (choice < 12) {
          auto r = call(cs, rng, [&](Client& c) { return c.AcceptOffer(esc); });
          // A retry whose first try won on the router that was killed before it answered.
          const bool won_before =
              r.status().code() == absl::StatusCode::kFailedPrecondition &&
              absl::StrContains(r.status().message(), "already accepted by you");
          if (r.ok() || won_before) {
            ++accepts;
            {
              std::lock_guard<std::mutex> lock(mu);
              if (!accepted_by.emplace(esc, id).second) ++double_accepts;
            }
            absl::SleepFor(absl::Milliseconds(rng() % 40));
            call(cs, rng, [&](Client& c) { return c.ResolveEscalation(esc); }).IgnoreError();
          }
        } else if (choice < 17) {
          call(cs, rng, [&](Client& c) { return c.DeclineOffer(esc); }).IgnoreError();
        }  // else: let it lapse
      }
    });
  }
  // The invariant, sampled straight from Redis while everything runs.
  std::thread sampler([&] {
    store::RedisClient redis(SharedRedis().client_options());
    while (!stop.load()) {
      std::vector<std::vector<std::string>> reads;
      for (const auto& [id, cap] : capacity) reads.push_back({"HGET", "bl:presence:" + id, "load"});
      auto loads = redis.Pipeline(reads);
      if (loads.ok()) {
        size_t i = 0;
        for (const auto& [id, cap] : capacity) {
          const long long load = (*loads)[i++].AsInteger();
          if (load > cap || load < 0) ++violations;
        }
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  });

  std::mutex created_mu;
  std::vector<std::pair<int, std::string>> created;
  std::atomic<int> create_failures{0};
  std::vector<std::thread> agents;
  for (int a = 0; a < kAgents; ++a) {
    agents.emplace_back([&, a] {
      auto cs = clients_for(absl::StrCat("agent", a), v1::ROLE_AGENT);
      std::mt19937 rng(1000 + a);
      for (int k = 0; k < kEscalations / kAgents; ++k) {
        v1::CreateEscalationRequest req;
        req.set_question(absl::StrCat("question ", a, "/", k));
        req.set_language("da");
        auto* s = req.add_skills();
        s->set_skill("billing");
        s->set_min_proficiency(1 + static_cast<int>(rng() % 3));
        // One request id per escalation, so that a retry on another router cannot duplicate it.
        req.set_request_id(absl::StrCat("req-", a, "-", k));
        auto e = call(cs, rng, [&](Client& c) { return c.Escalate(req); });
        if (!e.ok()) {
          ++create_failures;
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(created_mu);
          created.emplace_back(a, e->id());
        }
        absl::SleepFor(absl::Milliseconds(rng() % 200));
      }
    });
  }
  // Midway, one router dies without a goodbye.
  absl::SleepFor(absl::Seconds(3));
  dead_router.store(1);
  routers[1]->Stop(SIGKILL);
  for (auto& t : agents) t.join();
  EXPECT_EQ(create_failures.load(), 0);
  std::set<std::string> unique;
  for (const auto& [a, id] : created) unique.insert(id);
  ASSERT_EQ(unique.size(), static_cast<size_t>(kEscalations)) << "escalations were lost or doubled";

  // Let routing settle: nothing offered or accepted any more (some wait: everyone able
  // declined them).
  auto agent_client = [&](int a) { return clients_for(absl::StrCat("agent", a), v1::ROLE_AGENT); };
  std::vector<std::vector<std::unique_ptr<Client>>> agent_clients;
  for (int a = 0; a < kAgents; ++a) agent_clients.push_back(agent_client(a));
  std::mt19937 rng(5);
  auto state_of = [&](int a, const std::string& id) {
    auto e = call(agent_clients[a], rng, [&](Client& c) { return c.GetEscalation(id); });
    return e.ok() ? e->state() : v1::ESCALATION_STATE_UNSPECIFIED;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    bool busy = false;
    for (const auto& [a, id] : created) {
      const auto s = state_of(a, id);
      if (s == v1::ESCALATION_STATE_OFFERED || s == v1::ESCALATION_STATE_ACCEPTED) {
        busy = true;
        break;
      }
    }
    if (!busy) break;
    absl::SleepFor(absl::Milliseconds(300));
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  sampler.join();

  for (const auto& [a, id] : created) {
    if (state_of(a, id) == v1::ESCALATION_STATE_QUEUED) {
      auto c = call(agent_clients[a], rng, [&](Client& cl) { return cl.CancelEscalation(id); });
      EXPECT_TRUE(c.ok() || c.status().code() == absl::StatusCode::kFailedPrecondition)
          << c.status();
    }
  }
  int resolved = 0;
  for (const auto& [a, id] : created) {
    const auto s = state_of(a, id);
    EXPECT_TRUE(s == v1::ESCALATION_STATE_RESOLVED || s == v1::ESCALATION_STATE_CANCELLED)
        << id << " ended " << v1::EscalationState_Name(s);
    if (s == v1::ESCALATION_STATE_RESOLVED) ++resolved;
  }
  EXPECT_EQ(violations.load(), 0) << "a helper held more than its capacity";
  EXPECT_EQ(double_accepts, 0) << "an escalation was accepted twice";
  EXPECT_EQ(resolved, static_cast<int>(accepted_by.size()));
  EXPECT_GT(resolved, kEscalations / 4);
  for (const auto& [id, cap] : capacity) {
    EXPECT_EQ(SharedRedis().Command({"HGET", "bl:presence:" + id, "load"}).AsInteger(), 0) << id;
    EXPECT_EQ(SharedRedis().Command({"HGET", "bl:presence:" + id, "offers"}).AsInteger(), 0) << id;
  }
}

}  // namespace
}  // namespace backline::testing
