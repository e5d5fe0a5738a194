// The routing engine end to end: rings that open over time (and at once when the ring before
// has nobody logged in), the mentor first, longest-idle fairness, pulling from the "looking for
// help" list, reopen, transfer, invite, waiting too long, expiry, queue positions, explaining a
// decision and the service-level figures.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/events.h"
#include "services/router/routing_policy.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

constexpr char kBullseye[] = R"({
  "groups": {"default": {
    "broadcast_after_seconds": 0,
    "rings": [
      {"name": "mentor and team experts", "mentor": true, "roles": ["senior"], "scope": "team",
       "min_proficiency": 4, "open_after_seconds": 0},
      {"name": "any senior", "roles": ["senior"], "min_proficiency": 2, "open_after_seconds": 0.8},
      {"name": "supervisors", "roles": ["supervisor"], "open_after_seconds": 30}]}}})";

class RoutingTest : public ::testing::Test {
 protected:
  void Start(const std::string& policy_json, absl::Duration offer_timeout = absl::Seconds(15),
             std::vector<v1::Person> more_people = {}) {
    SharedRedis().Flush();
    ServerConfig config = TestConfig(SharedRedis());
    auto policy = router::ParseRoutingPolicy(policy_json);
    ASSERT_TRUE(policy.ok()) << policy.status();
    config.routing.policy = *policy;
    config.routing.offer_timeout = offer_timeout;
    stack_ = std::make_unique<TestStack>(config, Stack::kAll);
    v1::Person anna = MakePerson("anna", v1::ROLE_AGENT);
    anna.set_mentor("mei");
    std::vector<v1::Person> people = {
        anna,
        // Team experts (same team as anna).
        MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}),
        // Anna's mentor, in another team.
        MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"}, 2, "osl-team"),
        // Seniors of other teams, lower proficiency: ring 2.
        MakePerson("karl", v1::ROLE_SENIOR, {{"billing", 3}, {"hardware", 5}}, {"da"}, 2,
                   "aar-team"),
        MakePerson("lis", v1::ROLE_SENIOR, {{"billing", 2}}, {"da"}, 2, "aar-team"),
        MakePerson("eva", v1::ROLE_SUPERVISOR, {}, {"da"}, 1, "cph-ops"),
    };
    people.insert(people.end(), more_people.begin(), more_people.end());
    stack_->ApplyRoster(people);
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
  }

  std::unique_ptr<Client> Person(const std::string& id, v1::Role role = v1::ROLE_SENIOR) {
    return stack_->ClientFor(id, role);
  }
  // A senior with an open stream (logged in), set to `status`.
  std::unique_ptr<EventStream> LogIn(Client& c, v1::PresenceStatus status) {
    auto s = c.Subscribe("");
    EXPECT_TRUE(WaitForEvent(*s, [](const v1::Event& e) { return e.has_caught_up(); }));
    EXPECT_TRUE(c.SetStatus(status).ok());
    return s;
  }
  v1::CreateEscalationRequest Billing(int min = 2) {
    v1::CreateEscalationRequest r;
    r.set_question("refund?");
    r.set_language("da");
    auto* s = r.add_skills();
    s->set_skill("billing");
    s->set_min_proficiency(min);
    return r;
  }
  // Escalates for billing and reads the escalation back, with its place in the queue and wait
  // estimate if it waits (nothing when either call failed).
  std::optional<v1::Escalation> EscalateAndReadBack() {
    auto created = anna_->Escalate(Billing());
    if (!created.ok()) return std::nullopt;
    auto read = anna_->GetEscalation(created->id());
    if (!read.ok()) return std::nullopt;
    return *std::move(read);
  }
  // Accepts escalation `id`, offered to `helper`, and says how long it waited for its first
  // offer (an infinite wait when it was never offered).
  absl::Duration AcceptAndTellTheWait(Client& helper, const std::string& id) {
    EXPECT_TRUE(helper.AcceptOffer(id).ok());
    auto e = anna_->GetEscalation(id);
    if (!e.ok() || !e->timeline().has_first_offer_time()) return absl::InfiniteDuration();
    return FromProtoTime(e->timeline().first_offer_time()) -
           FromProtoTime(e->timeline().create_time());
  }

  // Under kBullseye: soren (ring 1) on a call, karl and lis (ring 2, not open yet) available
  // and listening, and one billing escalation from anna waiting in the queue.
  struct Waiting {
    std::unique_ptr<Client> soren, karl, lis;
    std::unique_ptr<EventStream> soren_s, karl_s, lis_s;
    v1::Escalation escalation;
  };
  Waiting OneWaiting() {
    Waiting w;
    w.soren = Person("soren");
    w.soren_s = LogIn(*w.soren, v1::PRESENCE_STATUS_ON_CALL);
    w.karl = Person("karl");
    w.lis = Person("lis");
    w.karl_s = LogIn(*w.karl, v1::PRESENCE_STATUS_AVAILABLE);
    w.lis_s = LogIn(*w.lis, v1::PRESENCE_STATUS_AVAILABLE);
    auto e = anna_->Escalate(Billing(2));
    EXPECT_TRUE(e.ok()) << e.status();
    if (e.ok()) w.escalation = *e;
    EXPECT_EQ(w.escalation.state(), v1::ESCALATION_STATE_QUEUED);
    return w;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
};

TEST_F(RoutingTest, TheMentorFirstThenTheRingWidensOverTime) {
  Start(kBullseye);
  auto mei = Person("mei"), soren = Person("soren"), karl = Person("karl");
  auto mei_s = LogIn(*mei, v1::PRESENCE_STATUS_AVAILABLE);
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_AVAILABLE);
  // Mentor and team expert rank alike (billing 4); both are ring 1. Karl (billing 3) is ring 2.
  auto first = anna_->Escalate(Billing());
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->offer().helper() == "mei" || first->offer().helper() == "soren")
      << first->offer().helper();

  // Ring 1 busy (on calls, but logged in): the next escalation waits for ring 2 to open.
  ASSERT_TRUE(mei->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  const absl::Time start = absl::Now();
  auto second = anna_->Escalate(Billing());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->state(), v1::ESCALATION_STATE_QUEUED);
  auto offer = WaitForEvent(*karl_s, [&](const v1::Event& e) {
    return e.has_offer() && e.offer().escalation().id() == second->id();
  });
  ASSERT_TRUE(offer.has_value()) << "ring 2 never opened";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(600)) << "ring 2 opened too early";
}

TEST_F(RoutingTest, ARingWithNobodyLoggedInIsSkippedAtOnce) {
  Start(kBullseye);
  // Mei and Soren (ring 1) have no desktop at all; Karl (ring 2) is there.
  auto karl = Person("karl");
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_AVAILABLE);
  auto e = anna_->Escalate(Billing());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(e->offer().helper(), "karl");
  // Ring 3 (supervisors) opens after 30 s even if ring 2 is busy: until then it waits.
  ASSERT_TRUE(karl->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  auto waits = anna_->Escalate(Billing());
  ASSERT_TRUE(waits.ok());
  EXPECT_EQ(waits->state(), v1::ESCALATION_STATE_QUEUED);
}

TEST_F(RoutingTest, LongestIdleSpreadsOffersEvenly) {
  Start(R"({"groups": {"default": {"order": "longest_idle", "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  std::vector<std::string> ids = {"soren", "mei", "karl", "lis"};
  std::vector<std::unique_ptr<Client>> helpers;
  std::vector<std::unique_ptr<EventStream>> streams;
  for (const std::string& id : ids) {
    helpers.push_back(Person(id));
    streams.push_back(LogIn(*helpers.back(), v1::PRESENCE_STATUS_AVAILABLE));
  }
  std::map<std::string, int> got;
  constexpr int kRounds = 40;
  for (int i = 0; i < kRounds; ++i) {
    auto e = anna_->Escalate(Billing(1));
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED);
    const std::string helper = e->offer().helper();
    ++got[helper];
    auto& client = helpers[std::find(ids.begin(), ids.end(), helper) - ids.begin()];
    ASSERT_TRUE(client->AcceptOffer(e->id()).ok());
    ASSERT_TRUE(client->ResolveEscalation(e->id()).ok());  // restarts their idle clock
  }
  // Equal helpers under longest-idle take turns: each gets exactly a quarter.
  for (const std::string& id : ids) EXPECT_EQ(got[id], kRounds / 4) << id;
}

TEST_F(RoutingTest, RoundRobinTakesTurnsInIdOrder) {
  Start(R"({"groups": {"default": {"order": "round_robin", "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  std::vector<std::string> ids = {"karl", "lis", "mei", "soren"};  // id order
  std::vector<std::unique_ptr<Client>> helpers;
  std::vector<std::unique_ptr<EventStream>> streams;
  for (const std::string& id : ids) {
    helpers.push_back(Person(id));
    streams.push_back(LogIn(*helpers.back(), v1::PRESENCE_STATUS_AVAILABLE));
  }
  // Nobody resolves: each keeps one thread (capacity 2), so idle time plays no part — the turn
  // goes round by id, twice, and then nobody has room.
  for (int i = 0; i < 8; ++i) {
    auto e = anna_->Escalate(Billing(1));
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED) << "escalation " << i;
    const std::string& helper = e->offer().helper();
    EXPECT_EQ(helper, ids[i % 4]) << "escalation " << i;
    auto& client = helpers[std::find(ids.begin(), ids.end(), helper) - ids.begin()];
    ASSERT_TRUE(client->AcceptOffer(e->id()).ok());
  }
  EXPECT_EQ(anna_->Escalate(Billing(1))->state(), v1::ESCALATION_STATE_QUEUED);
}

TEST_F(RoutingTest, LeastLoadedGoesToWhoeverHoldsLeast) {
  Start(R"({"groups": {"default": {"order": "least_loaded", "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  // Soren becomes available first (idle longest) but will hold a thread; mei then gets the next
  // one although she has been idle for less time.
  auto soren = Person("soren"), mei = Person("mei");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  auto first = anna_->Escalate(Billing(1));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->offer().helper(), "soren");
  ASSERT_TRUE(soren->AcceptOffer(first->id()).ok());
  auto mei_s = LogIn(*mei, v1::PRESENCE_STATUS_AVAILABLE);
  // Soren's idle clock is older than mei's: by longest idle he would be next.
  ASSERT_LT(soren->GetPresence()->idle_since().seconds() * 1000,
            mei->GetPresence()->idle_since().seconds() * 1000 + 1000);
  auto second = anna_->Escalate(Billing(1));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->offer().helper(), "mei");
}

TEST_F(RoutingTest, OnCallSeniorsTakeUrgentOnlyWhenThePolicySaysSo) {
  Start(R"({"groups": {"default": {"on_call_takes_urgent": true, "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_ON_CALL);
  // A normal escalation waits for someone available.
  auto normal = anna_->Escalate(Billing());
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->state(), v1::ESCALATION_STATE_QUEUED);
  // An urgent one reaches soren on his call, and he keeps the offer while still on it.
  v1::CreateEscalationRequest urgent = Billing();
  urgent.set_priority(v1::PRIORITY_URGENT);
  auto u = anna_->Escalate(urgent);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(u->offer().helper(), "soren");
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_ON_CALL, "second customer").ok());
  auto accepted = soren->AcceptOffer(u->id());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(anna_->GetEscalation(normal->id())->state(), v1::ESCALATION_STATE_QUEUED);

  // A senior who goes on a call while an urgent escalation waits is offered it at once.
  auto mei = Person("mei");
  auto mei_s = LogIn(*mei, v1::PRESENCE_STATUS_BREAK);
  auto later = anna_->Escalate(urgent);
  ASSERT_TRUE(later.ok());
  // Soren (capacity 2) holds one thread; the urgent one goes to him again, on his call.
  EXPECT_EQ(later->offer().helper(), "soren");
  auto declined = soren->DeclineOffer(later->id(), "", "busy");
  ASSERT_TRUE(declined.ok()) << declined.status();
  ASSERT_TRUE(mei->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  auto offered = WaitForEvent(*mei_s, [&](const v1::Event& ev) {
    return ev.has_offer() && ev.offer().escalation().id() == later->id();
  });
  EXPECT_TRUE(offered.has_value()) << "mei, on a call, was not offered the urgent escalation";
  // explain agrees: on a call counts for URGENT work here.
  auto eva = Person("eva", v1::ROLE_SUPERVISOR);
  auto why = eva->ExplainRouting(normal->id());
  ASSERT_TRUE(why.ok()) << why.status();
  for (const auto& v : why->candidates()) {
    if (v.person() == "mei") {
      EXPECT_EQ(v.verdict(), "not_available") << "normal priority";
    }
  }
  auto urgent_why = eva->ExplainRouting(later->id());
  ASSERT_TRUE(urgent_why.ok());
  for (const auto& v : urgent_why->candidates()) {
    if (v.person() == "mei") {
      EXPECT_EQ(v.verdict(), "offered");
    }
  }
}

TEST_F(RoutingTest, WithoutThePolicyOnCallSeniorsGetNothing) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_ON_CALL);
  v1::CreateEscalationRequest urgent = Billing();
  urgent.set_priority(v1::PRIORITY_URGENT);
  auto u = anna_->Escalate(urgent);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->state(), v1::ESCALATION_STATE_QUEUED);
  // Available again: offered at once; back on a call: the offer is withdrawn.
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  ASSERT_TRUE(WaitForEvent(*soren_s, [](const v1::Event& ev) { return ev.has_offer(); }));
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  auto closed = WaitForEvent(*soren_s, [](const v1::Event& ev) { return ev.has_offer_closed(); });
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->offer_closed().reason(), "withdrawn");
}

TEST_F(RoutingTest, ParallelOffersFirstAcceptWinsTheOthersAreTold) {
  Start(R"({"groups": {"default": {"parallel_offers": 3, "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  std::vector<std::string> ids = {"soren", "mei", "karl", "lis"};
  std::vector<std::unique_ptr<Client>> helpers;
  std::vector<std::unique_ptr<EventStream>> streams;
  for (const std::string& id : ids) {
    helpers.push_back(Person(id));
    streams.push_back(LogIn(*helpers.back(), v1::PRESENCE_STATUS_AVAILABLE));
  }
  auto e = anna_->Escalate(Billing(2));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED);
  // The three best (billing 4, 4, 3) at once; lis (2) is fourth.
  std::vector<std::string> offered;
  for (const auto& o : e->offers()) offered.push_back(o.helper());
  std::sort(offered.begin(), offered.end());
  EXPECT_EQ(offered, (std::vector<std::string>{"karl", "mei", "soren"}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(WaitForEvent(*streams[i],
                             [&](const v1::Event& ev) {
                               return ev.has_offer() && ev.offer().escalation().id() == e->id() &&
                                      ev.offer().offer().helper() == ids[i];
                             }))
        << ids[i] << " did not get their own offer";
    EXPECT_EQ(helpers[i]->GetPresence()->load(), 1) << ids[i];
  }
  // Soren declines: still offered to mei and karl.
  auto declined = helpers[0]->DeclineOffer(e->id());
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(declined->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(declined->offers_size(), 2);
  EXPECT_EQ(helpers[0]->GetPresence()->load(), 0);
  // Mei and karl accept at once: one wins; the other is refused and told it was taken.
  absl::StatusOr<v1::Escalation> a, b;
  std::thread t1([&] { a = helpers[1]->AcceptOffer(e->id()); });
  std::thread t2([&] { b = helpers[2]->AcceptOffer(e->id()); });
  t1.join();
  t2.join();
  ASSERT_NE(a.ok(), b.ok()) << a.status() << " / " << b.status();
  const int winner = a.ok() ? 1 : 2, loser = a.ok() ? 2 : 1;
  EXPECT_EQ((a.ok() ? b : a).status().code(), absl::StatusCode::kFailedPrecondition);
  auto closed = WaitForEvent(*streams[loser], [](const v1::Event& ev) {
    return ev.has_offer_closed() && ev.offer_closed().reason() == "taken";
  });
  EXPECT_TRUE(closed.has_value()) << ids[loser] << " was not told";
  EXPECT_EQ(helpers[winner]->GetPresence()->load(), 1);
  EXPECT_EQ(helpers[loser]->GetPresence()->load(), 0);
  auto now = anna_->GetEscalation(e->id());
  EXPECT_EQ(now->helper(), ids[winner]);
  EXPECT_EQ(now->offers_size(), 0);
}

TEST_F(RoutingTest, ParallelOffersThatAllLapseAreRoutedOnAndCountAsMissed) {
  Start(R"({"groups": {"default": {"parallel_offers": 2, "broadcast_after_seconds": 0,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})",
        absl::Milliseconds(300));
  auto soren = Person("soren"), mei = Person("mei"), karl = Person("karl");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  auto mei_s = LogIn(*mei, v1::PRESENCE_STATUS_AVAILABLE);
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_AVAILABLE);
  auto e = anna_->Escalate(Billing(2));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->offers_size(), 2);
  // Nobody answers: both lapse together, and karl (third) gets it.
  auto karl_offer = WaitForEvent(*karl_s, [&](const v1::Event& ev) {
    return ev.has_offer() && ev.offer().escalation().id() == e->id();
  });
  ASSERT_TRUE(karl_offer.has_value());
  EXPECT_EQ(soren->GetPresence()->missed_offers(), 1);
  EXPECT_EQ(mei->GetPresence()->missed_offers(), 1);
  EXPECT_EQ(soren->GetPresence()->load(), 0);
  auto now = anna_->GetEscalation(e->id());
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->offers_size(), 1);
  EXPECT_EQ(now->offer().helper(), "karl");
  EXPECT_EQ(now->declined_by_size(), 2);
}

TEST_F(RoutingTest, PullFromTheLookingForHelpListOneWinner) {
  Start(kBullseye);
  // Ring 1 staffed but busy; ring 2 not open for a while: the escalation waits.
  Waiting w = OneWaiting();
  const std::string id = w.escalation.id();
  // The list rides the event stream...
  auto listed = WaitForEvent(*w.karl_s, [&](const v1::Event& ev) {
    return ev.has_waiting_changed() && ev.waiting_changed().waiting() &&
           ev.waiting_changed().escalation().id() == id;
  });
  ASSERT_TRUE(listed.has_value()) << "karl's list did not get the waiting escalation";
  EXPECT_TRUE(listed->waiting_changed().best_match());  // billing 3 beats lis's 2
  EXPECT_EQ(listed->waiting_changed().escalation().queue_position(), 1);
  // ...and can be read.
  auto waiting = w.lis->ListWaiting(v1::ListWaitingRequest());
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  ASSERT_EQ(waiting->escalations_size(), 1);
  EXPECT_EQ(waiting->escalations(0).escalation().id(), id);
  EXPECT_EQ(waiting->escalations(0).escalation().queue_position(), 1);

  // Both grab it at once: one wins, the other is told it is gone.
  absl::StatusOr<v1::Escalation> a, b;
  std::thread t1([&] { a = w.karl->TakeEscalation(id); });
  std::thread t2([&] { b = w.lis->TakeEscalation(id); });
  t1.join();
  t2.join();
  ASSERT_NE(a.ok(), b.ok()) << a.status() << " / " << b.status();
  const auto& winner = a.ok() ? a : b;
  const auto& loser = a.ok() ? b : a;
  EXPECT_EQ(winner->state(), v1::ESCALATION_STATE_ACCEPTED);
  EXPECT_EQ(loser.status().code(), absl::StatusCode::kFailedPrecondition) << loser.status();
  // Someone without the skill may not take anything.
  auto other = anna_->Escalate(Billing(2));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Person("eva", v1::ROLE_SUPERVISOR)->TakeEscalation(other->id()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RoutingTest, TheLookingForHelpListSaysOfEachWhetherTheCallerIsAmongTheBest) {
  // Ring 1 is the requester's team, where everyone is on a call: soren for anna, ole for nils.
  // The ring of everyone else opens only in an hour, so all of it waits while nils, mei, karl
  // and lis are available.
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0, "rings": [
          {"name": "team", "roles": ["senior"], "scope": "team"},
          {"name": "any senior", "roles": ["senior"], "open_after_seconds": 3600}]}}})",
        absl::Seconds(15),
        {MakePerson("nils", v1::ROLE_SENIOR, {{"billing", 5}}, {"da"}, 2, "vej-team"),
         MakePerson("ole", v1::ROLE_SENIOR, {{"billing", 2}}, {"da"}, 2, "vej-team")});
  auto soren = Person("soren"), mei = Person("mei"), karl = Person("karl"), lis = Person("lis");
  auto nils = Person("nils"), ole = Person("ole");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_ON_CALL);
  auto ole_s = LogIn(*ole, v1::PRESENCE_STATUS_ON_CALL);
  auto nils_s = LogIn(*nils, v1::PRESENCE_STATUS_AVAILABLE);
  auto mei_s = LogIn(*mei, v1::PRESENCE_STATUS_AVAILABLE);
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_AVAILABLE);
  auto lis_s = LogIn(*lis, v1::PRESENCE_STATUS_AVAILABLE);
  v1::CreateEscalationRequest hardware = Billing();
  hardware.mutable_skills(0)->set_skill("hardware");
  std::vector<std::string> ids;
  for (auto [who, request] : {std::pair{anna_.get(), Billing()},
                              {anna_.get(), Billing()},
                              {nils.get(), Billing()},
                              {anna_.get(), hardware}}) {
    auto e = who->Escalate(request);
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->state(), v1::ESCALATION_STATE_QUEUED);
    ids.push_back(e->id());
  }
  // Billing >= 2 ranks nils 5, mei 4, karl 3, lis 2: the best three are nils, mei and karl for
  // anna's, and mei, karl and lis for nils's own (never his own helper). Hardware: karl alone.
  struct Listed {
    std::string id;
    int position;
    bool best;
  };
  auto list_of = [&](Client& c) {
    std::vector<Listed> out;
    auto list = c.ListWaiting(v1::ListWaitingRequest());
    EXPECT_TRUE(list.ok()) << list.status();
    if (!list.ok()) return out;
    for (const auto& w : list->escalations()) {
      out.push_back({w.escalation().id(), w.escalation().queue_position(), w.best_match()});
    }
    return out;
  };
  auto expect = [](const std::vector<Listed>& got, const std::vector<Listed>& want,
                   const std::string& who) {
    ASSERT_EQ(got.size(), want.size()) << who;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].id, want[i].id) << who << " #" << i;
      EXPECT_EQ(got[i].position, want[i].position) << who << " #" << i;
      EXPECT_EQ(got[i].best, want[i].best) << who << " #" << i;
    }
  };
  expect(list_of(*lis), {{ids[0], 1, false}, {ids[1], 2, false}, {ids[2], 3, true}}, "lis");
  expect(list_of(*karl),
         {{ids[0], 1, true}, {ids[1], 2, true}, {ids[2], 3, true}, {ids[3], 4, true}}, "karl");
  expect(list_of(*mei), {{ids[0], 1, true}, {ids[1], 2, true}, {ids[2], 3, true}}, "mei");

  // However long the list, reading it costs Redis three reads: the queue, the escalations,
  // the rankings (the fewest of several tries, as other work of the stack reads too).
  store::RedisClient info(SharedRedis().client_options());
  long long fewest = -1;
  for (int i = 0; i < 5; ++i) {
    const long long before = RedisReadsProcessed(info);
    ASSERT_EQ(list_of(*karl).size(), 4u);
    const long long reads =
        RedisReadsProcessed(info) - before - 1;  // the second INFO is a read too
    if (fewest < 0 || reads < fewest) fewest = reads;
  }
  EXPECT_LE(fewest, 3);

  // Telling the helpers who could take a waiting escalation costs the agent's call one round
  // trip however many they are: one that four could take (nils, mei, karl, lis) costs it as
  // many reads as one that only karl could.
  auto fewest_reads_to_escalate = [&] {
    long long fewest = -1;
    for (int i = 0; i < 3; ++i) {
      const long long before = RedisReadsProcessed(info);
      auto e = anna_->Escalate(Billing());
      const long long reads = RedisReadsProcessed(info) - before - 1;
      EXPECT_TRUE(e.ok() && e->state() == v1::ESCALATION_STATE_QUEUED);
      if (fewest < 0 || reads < fewest) fewest = reads;
    }
    return fewest;
  };
  const long long told_four = fewest_reads_to_escalate();
  for (Client* c : {nils.get(), mei.get(), lis.get()}) {
    ASSERT_TRUE(c->SetStatus(v1::PRESENCE_STATUS_BREAK).ok());
  }
  const long long told_one = fewest_reads_to_escalate();
  EXPECT_EQ(told_four, told_one);
}

TEST_F(RoutingTest, AnOfferTakesItOffTheLookingForHelpLists) {
  Start(kBullseye);
  Waiting w = OneWaiting();
  const std::string id = w.escalation.id();
  auto waiting_is = [&](bool waiting) {
    return [&, waiting](const v1::Event& ev) {
      return ev.has_waiting_changed() && ev.waiting_changed().waiting() == waiting &&
             ev.waiting_changed().escalation().id() == id;
    };
  };
  ASSERT_TRUE(WaitForEvent(*w.lis_s, waiting_is(true)).has_value());
  // Soren is free again and takes the head of the queue (or ring 2 opens first): either way it
  // is offered, and every list that showed it is told it is gone, without reloading.
  ASSERT_TRUE(w.soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  EXPECT_TRUE(WaitForEvent(*w.lis_s, waiting_is(false)).has_value());
  EXPECT_TRUE(WaitForEvent(*w.karl_s, waiting_is(false)).has_value());
  auto waiting = w.lis->ListWaiting(v1::ListWaitingRequest());
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(waiting->escalations_size(), 0);
}

TEST_F(RoutingTest, ReopenTransferAndInvite) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0,
            "rings": [{"name": "all"}]}}})");
  auto soren = Person("soren"), karl = Person("karl"), mei = Person("mei");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  auto e = anna_->Escalate(Billing(4));  // soren or mei; only soren is available
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->offer().helper(), "soren");
  ASSERT_TRUE(soren->AcceptOffer(e->id()).ok());
  ASSERT_TRUE(soren->ResolveEscalation(e->id(), "done").ok());
  // Reopened while soren is available: back to soren at once.
  auto reopened = anna_->ReopenEscalation(e->id(), "it did not work");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->state(), v1::ESCALATION_STATE_ACCEPTED);
  EXPECT_EQ(reopened->helper(), "soren");
  EXPECT_EQ(soren->GetPresence()->load(), 1);

  // Soren invites karl into the thread.
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_ON_CALL);
  auto invited = soren->InviteExpert(e->id(), "karl");
  ASSERT_TRUE(invited.ok()) << invited.status();
  EXPECT_EQ(invited->experts(0), "karl");
  auto joined = WaitForEvent(*karl_s, [](const v1::Event& ev) { return ev.has_thread_changed(); });
  ASSERT_TRUE(joined.has_value());
  ASSERT_TRUE(anna_->Post(reopened->thread_id(), "hej karl").ok());
  auto got = WaitForEvent(*karl_s, [](const v1::Event& ev) { return ev.has_message_posted(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(soren->InviteExpert(e->id(), "karl").status().code(), absl::StatusCode::kAlreadyExists);

  // Soren hands it on: it needs hardware now; karl (hardware 5) gets it, same thread.
  ASSERT_TRUE(karl->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  v1::TransferEscalationRequest t;
  auto* skill = t.add_skills();
  skill->set_skill("hardware");
  skill->set_min_proficiency(4);
  t.set_reason("it is the printer");
  auto moved = soren->TransferEscalation(e->id(), t);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(moved->offer().helper(), "karl");
  EXPECT_EQ(soren->GetPresence()->load(), 0);
  auto accepted = karl->AcceptOffer(e->id());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->thread_id(), reopened->thread_id());
  v1::ListMessagesRequest list;
  list.set_thread_id(accepted->thread_id());
  auto history = karl->ListMessages(list);
  ASSERT_TRUE(history.ok());
  // accepted, resolved, reopened, invited, "hej karl", handed on, accepted again
  EXPECT_EQ(history->messages_size(), 7);

  // Only the helper transfers; a reopened escalation whose helper is away is routed afresh.
  EXPECT_EQ(anna_->TransferEscalation(e->id(), t).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(karl->ResolveEscalation(e->id()).ok());
  ASSERT_TRUE(karl->SetStatus(v1::PRESENCE_STATUS_BREAK).ok());
  auto again = anna_->ReopenEscalation(e->id(), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), v1::ESCALATION_STATE_QUEUED);  // nobody else has hardware
}

TEST_F(RoutingTest, WaitingTooLongIsBroadcastAndThenExpires) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0.4, "expire_after_seconds": 1.5,
            "rings": [{"name": "seniors", "roles": ["senior"]}]}}})");
  auto eva = Person("eva", v1::ROLE_SUPERVISOR);
  auto eva_s = LogIn(*eva, v1::PRESENCE_STATUS_MEETING);
  auto anna_s = anna_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*anna_s, [](const v1::Event& e) { return e.has_caught_up(); }));
  auto first = anna_->Escalate(Billing());
  auto second = anna_->Escalate(Billing());
  ASSERT_TRUE(first.ok() && second.ok());
  auto pos = anna_->GetEscalation(second->id());
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->queue_position(), 2);
  auto alert = WaitForEvent(*eva_s, [](const v1::Event& e) {
    return e.has_notice() && e.notice().code() == "waiting_too_long";
  });
  ASSERT_TRUE(alert.has_value()) << "the supervisor was not told";
  auto told = WaitForEvent(*anna_s, [](const v1::Event& e) {
    return e.has_notice() && e.notice().code() == "waiting_too_long";
  });
  ASSERT_TRUE(told.has_value()) << "the requester was not told";
  EXPECT_TRUE(anna_->GetEscalation(first->id())->timeline().has_broadcast_time());
  auto expired = WaitForEvent(*anna_s, [&](const v1::Event& e) {
    return e.has_escalation_updated() &&
           e.escalation_updated().escalation().state() == v1::ESCALATION_STATE_EXPIRED;
  });
  ASSERT_TRUE(expired.has_value()) << "it never expired";
}

TEST_F(RoutingTest, ExplainSaysWhoWasConsideredAndWhy) {
  Start(kBullseye);
  auto soren = Person("soren"), karl = Person("karl"), lis = Person("lis");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_BREAK);
  auto karl_s = LogIn(*karl, v1::PRESENCE_STATUS_AVAILABLE);
  auto lis_s = LogIn(*lis, v1::PRESENCE_STATUS_AVAILABLE);
  auto e = anna_->Escalate(Billing(3));
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->state(), v1::ESCALATION_STATE_QUEUED);  // ring 1 staffed (soren), ring 2 shut
  auto eva = Person("eva", v1::ROLE_SUPERVISOR);
  auto explained = eva->ExplainRouting(e->id());
  ASSERT_TRUE(explained.ok()) << explained.status();
  ASSERT_EQ(explained->rings_size(), 3);
  EXPECT_TRUE(explained->rings(0).open());
  EXPECT_FALSE(explained->rings(0).empty());
  EXPECT_FALSE(explained->rings(1).open());
  std::map<std::string, std::string> verdict;
  for (const auto& c : explained->candidates()) verdict[c.person()] = c.verdict();
  EXPECT_EQ(verdict["soren"], "not_available");
  EXPECT_EQ(verdict["karl"], "ring_not_open");
  EXPECT_EQ(verdict["lis"], "low_proficiency");
  EXPECT_EQ(verdict["mei"], "offline");
  // Agents other than the requester may not ask.
  auto bo = stack_->ClientFor("bo", v1::ROLE_AGENT);
  EXPECT_EQ(bo->ExplainRouting(e->id()).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(RoutingTest, AQueuedEscalationIsGivenAWaitFromHowLongRecentOnesWaited) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0, "rings": [{"name": "all"}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  // One billing escalation offered (the recent wait), then soren goes on break.
  auto first = anna_->Escalate(Billing());
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::Duration waited = AcceptAndTellTheWait(*soren, first->id());
  ASSERT_NE(waited, absl::InfiniteDuration());
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_BREAK).ok());
  auto queued = EscalateAndReadBack();
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(queued->queue_position(), 1);
  ASSERT_TRUE(queued->has_estimated_wait()) << "no estimate from the billing one just offered";
  // First in line, so at most the recent wait, less what it waited already.
  EXPECT_LE(google::protobuf::util::TimeUtil::DurationToMilliseconds(queued->estimated_wait()),
            absl::ToInt64Milliseconds(waited));
  // Without any recent wait for its skill there is no estimate.
  v1::CreateEscalationRequest hardware = Billing();
  hardware.mutable_skills(0)->set_skill("hardware");
  auto other = anna_->Escalate(hardware);
  ASSERT_TRUE(other.ok()) << other.status();
  auto unknown = anna_->GetEscalation(other->id());
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_FALSE(unknown->has_estimated_wait());
}

// The recent waits were read while billing had none (the first billing escalation waited in the
// queue); its offer, when soren comes back, is billing's first wait, and the next billing
// escalation is given an estimate at once, not after the next read of the last hour.
TEST_F(RoutingTest, ASkillsFirstWaitGivesTheNextEscalationAnEstimateAtOnce) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0, "rings": [{"name": "all"}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_BREAK);
  auto first = EscalateAndReadBack();
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_FALSE(first->has_estimated_wait());  // nothing waited for billing in the last hour
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  ASSERT_TRUE(WaitForEvent(*soren_s, [](const v1::Event& ev) { return ev.has_offer(); }));
  const absl::Duration waited = AcceptAndTellTheWait(*soren, first->id());
  ASSERT_NE(waited, absl::InfiniteDuration());
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_BREAK).ok());

  auto queued = EscalateAndReadBack();
  ASSERT_TRUE(queued.has_value());
  ASSERT_EQ(queued->state(), v1::ESCALATION_STATE_QUEUED);
  ASSERT_TRUE(queued->has_estimated_wait()) << "billing's first wait is not counted";
  EXPECT_LE(google::protobuf::util::TimeUtil::DurationToMilliseconds(queued->estimated_wait()),
            absl::ToInt64Milliseconds(waited) + 1);
}

TEST_F(RoutingTest, StatsCountAndTimeTheEscalations) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0, "rings": [{"name": "all"}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  for (int i = 0; i < 3; ++i) {
    auto e = anna_->Escalate(Billing());
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE(soren->AcceptOffer(e->id()).ok());
    ASSERT_TRUE(soren->ResolveEscalation(e->id()).ok());
  }
  auto cancelled = anna_->Escalate(Billing());
  ASSERT_TRUE(cancelled.ok());
  ASSERT_TRUE(anna_->CancelEscalation(cancelled->id()).ok());
  auto eva = Person("eva", v1::ROLE_SUPERVISOR);
  auto stats = eva->GetStats(v1::GetStatsRequest());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->total().created(), 4);
  EXPECT_EQ(stats->total().offered(), 4);
  EXPECT_EQ(stats->total().accepted(), 3);
  EXPECT_EQ(stats->total().resolved(), 3);
  EXPECT_EQ(stats->total().cancelled(), 1);
  ASSERT_EQ(stats->by_skill_size(), 1);
  EXPECT_EQ(stats->by_skill(0).key(), "billing");
  ASSERT_EQ(stats->by_team_size(), 1);
  EXPECT_EQ(stats->by_team(0).key(), "cph-billing");
  EXPECT_TRUE(stats->total().has_time_to_accept_p50());
  EXPECT_EQ(anna_->GetStats(v1::GetStatsRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RoutingTest, ListEscalationsByScope) {
  Start(R"({"groups": {"default": {"broadcast_after_seconds": 0, "rings": [{"name": "all"}]}}})");
  auto soren = Person("soren");
  auto soren_s = LogIn(*soren, v1::PRESENCE_STATUS_AVAILABLE);
  auto list = [](Client& c, v1::EscalationScope scope) {
    v1::ListEscalationsRequest r;
    r.set_scope(scope);
    return c.ListEscalations(r);
  };
  auto ids = [](const absl::StatusOr<v1::ListEscalationsResponse>& r) {
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& e : r->escalations()) out.push_back(e.id());
    }
    return out;
  };
  auto first = anna_->Escalate(Billing());
  ASSERT_TRUE(first.ok());
  absl::SleepFor(absl::Milliseconds(2));  // distinct creation times, for "newest first"
  auto second = anna_->Escalate(Billing());
  ASSERT_TRUE(second.ok());
  // Soren (capacity 2) holds both offers: the one that lapses first comes first.
  ASSERT_EQ(second->offer().helper(), "soren");
  auto offered = list(*soren, v1::ESCALATION_SCOPE_OFFERED);
  ASSERT_TRUE(offered.ok()) << offered.status();
  EXPECT_EQ(ids(offered), (std::vector<std::string>{first->id(), second->id()}));
  EXPECT_EQ(offered->escalations(0).offer().helper(), "soren");
  EXPECT_TRUE(ids(list(*anna_, v1::ESCALATION_SCOPE_OFFERED)).empty());

  ASSERT_TRUE(soren->AcceptOffer(first->id()).ok());
  EXPECT_EQ(ids(list(*soren, v1::ESCALATION_SCOPE_OFFERED)),
            (std::vector<std::string>{second->id()}));
  EXPECT_EQ(ids(list(*soren, v1::ESCALATION_SCOPE_OPEN)), (std::vector<std::string>{first->id()}));
  // The requester is in both threads from the start: newest first.
  EXPECT_EQ(ids(list(*anna_, v1::ESCALATION_SCOPE_OPEN)),
            (std::vector<std::string>{second->id(), first->id()}));

  // The supervisor's live view of the site: every open escalation, oldest first.
  auto eva = Person("eva", v1::ROLE_SUPERVISOR);
  EXPECT_EQ(ids(list(*eva, v1::ESCALATION_SCOPE_SITE)),
            (std::vector<std::string>{first->id(), second->id()}));
  EXPECT_EQ(list(*anna_, v1::ESCALATION_SCOPE_SITE).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(list(*anna_, v1::ESCALATION_SCOPE_UNSPECIFIED).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::ListEscalationsRequest too_many;
  too_many.set_scope(v1::ESCALATION_SCOPE_OPEN);
  too_many.set_page_size(1000);
  EXPECT_EQ(anna_->ListEscalations(too_many).status().code(), absl::StatusCode::kInvalidArgument);

  // Resolved, it leaves the open lists.
  ASSERT_TRUE(soren->ResolveEscalation(first->id()).ok());
  EXPECT_TRUE(ids(list(*soren, v1::ESCALATION_SCOPE_OPEN)).empty());
  EXPECT_EQ(ids(list(*eva, v1::ESCALATION_SCOPE_SITE)), (std::vector<std::string>{second->id()}));
}

}  // namespace
}  // namespace backline::testing
