// Presence end to end: a person is there only while a desktop proves it (an open event stream
// or heartbeats); one who disappears leaves routing within the liveness timeout, their pending
// offer goes to someone else, and they get their chosen status back if they return within the
// grace period. Two presence instances answer alike; bad roster input changes nothing.
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

constexpr absl::Duration kLiveness = absl::Milliseconds(600);
constexpr absl::Duration kGrace = absl::Seconds(2);

class PresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    ServerConfig config = TestConfig(SharedRedis());
    config.presence.liveness_timeout = kLiveness;
    config.presence.grace = kGrace;
    stack_ = std::make_unique<TestStack>(config, Stack::kAll);
    v1::Person anna = MakePerson("anna", v1::ROLE_AGENT);
    anna.set_mentor("soren");
    stack_->ApplyRoster(
        {anna, MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 5}}),
         MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 3}}),
         MakePerson("eva", v1::ROLE_SUPERVISOR, {}, {"da"}, 0, "cph-ops"),
         MakePerson("tom", v1::ROLE_TEAM_LEADER, {}, {"da"}, 0, "osl-team", "osl")});
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  }

  // Waits until `pred` holds for `person`'s presence (as `viewer` sees it).
  bool WaitForPresence(Client& viewer, const std::string& person,
                       const std::function<bool(const v1::Presence&)>& pred,
                       absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      auto p = viewer.GetPresence(person);
      if (p.ok() && pred(*p)) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  v1::CreateEscalationRequest Question() {
    v1::CreateEscalationRequest r;
    r.set_question("where is the refund?");
    r.set_language("da");
    r.add_skills()->set_skill("billing");
    return r;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_;
};

TEST_F(PresenceTest, AnOpenStreamKeepsAPersonThere) {
  auto stream = soren_->Subscribe("", "desk-1");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  // Well past the liveness timeout, the stream alone keeps soren available and offerable.
  absl::SleepFor(kLiveness * 3);
  auto p = anna_->GetPresence("soren");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status(), v1::PRESENCE_STATUS_AVAILABLE);
  EXPECT_GE(p->sessions(), 1);
  auto e = anna_->Escalate(Question());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->offer().helper(), "soren");
}

TEST_F(PresenceTest, AVanishedDesktopLeavesRoutingAndItsOfferMovesOn) {
  auto mei = stack_->ClientFor("mei", v1::ROLE_SENIOR);
  auto mei_stream = mei->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*mei_stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(mei->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  {
    auto stream = soren_->Subscribe("");
    ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
    ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
    auto e = anna_->Escalate(Question());
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->offer().helper(), "soren");  // billing 5 beats billing 3
    // Soren's laptop closes: the stream goes away and nothing heartbeats.
  }
  ASSERT_TRUE(WaitForPresence(*anna_, "soren", [](const v1::Presence& p) {
    return p.status() == v1::PRESENCE_STATUS_OFFLINE;
  })) << "soren never left";
  // The pending offer was withdrawn and went to mei.
  auto offer = WaitForEvent(*mei_stream, [](const v1::Event& e) { return e.has_offer(); });
  ASSERT_TRUE(offer.has_value()) << "the offer did not move on";
  auto soren_presence = anna_->GetPresence("soren");
  EXPECT_EQ(soren_presence->reason(), "no desktop connected");
  EXPECT_EQ(soren_presence->load(), 0);

  // Back within the grace period: available again, as he had chosen.
  auto again = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*again, [](const v1::Event& e) { return e.has_caught_up(); }));
  auto p = anna_->GetPresence("soren");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status(), v1::PRESENCE_STATUS_AVAILABLE);
}

TEST_F(PresenceTest, AfterTheGracePeriodTheStatusIsOffline) {
  ASSERT_TRUE(soren_->Heartbeat("desk-1").ok());
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  // Heartbeats keep him there.
  for (int i = 0; i < 4; ++i) {
    absl::SleepFor(kLiveness / 2);
    auto hb = soren_->Heartbeat("desk-1");
    ASSERT_TRUE(hb.ok());
    EXPECT_EQ(hb->presence().status(), v1::PRESENCE_STATUS_AVAILABLE);
    EXPECT_GT(hb->liveness_timeout().nanos() + hb->liveness_timeout().seconds(), 0);
  }
  // They stop; he is away, then OFFLINE for good once the grace period is over.
  ASSERT_TRUE(WaitForPresence(*anna_, "soren", [](const v1::Presence& p) {
    return p.status() == v1::PRESENCE_STATUS_OFFLINE;
  }));
  absl::SleepFor(kGrace + kLiveness);
  ASSERT_TRUE(soren_->Heartbeat("desk-1").ok());
  auto p = anna_->GetPresence("soren");
  EXPECT_EQ(p->status(), v1::PRESENCE_STATUS_OFFLINE);
  EXPECT_EQ(p->reason(), "");
  auto e = anna_->Escalate(Question());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state(), v1::ESCALATION_STATE_QUEUED);
}

TEST_F(PresenceTest, BreakWithdrawsAPendingOfferAtOnce) {
  auto stream = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna_->Escalate(Question());
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->offer().helper(), "soren");
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_BREAK, "lunch").ok());
  auto closed = WaitForEvent(*stream, [](const v1::Event& ev) { return ev.has_offer_closed(); });
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->offer_closed().reason(), "withdrawn");
  auto after = anna_->GetEscalation(e->id());
  EXPECT_EQ(after->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(soren_->GetPresence()->load(), 0);
}

TEST_F(PresenceTest, OnlyTheRightRolesChangeSomeoneElsesStatus) {
  ASSERT_TRUE(soren_->Heartbeat("desk").ok());
  const std::string digest = SharedRedis().Digest();
  auto mei = stack_->ClientFor("mei", v1::ROLE_SENIOR);
  EXPECT_EQ(mei->SetStatus(v1::PRESENCE_STATUS_BREAK, "", "soren").status().code(),
            absl::StatusCode::kPermissionDenied);
  // A team leader of another team and site.
  auto tom = stack_->ClientFor("tom", v1::ROLE_TEAM_LEADER);
  EXPECT_EQ(tom->SetStatus(v1::PRESENCE_STATUS_BREAK, "", "soren").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SharedRedis().Digest(), digest);
  // A supervisor of soren's site may.
  auto eva = stack_->ClientFor("eva", v1::ROLE_SUPERVISOR);
  auto set = eva->SetStatus(v1::PRESENCE_STATUS_MEETING, "team meeting", "soren");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->status(), v1::PRESENCE_STATUS_MEETING);
  EXPECT_EQ(soren_->GetPresence()->reason(), "team meeting");
  EXPECT_EQ(eva->SetStatus(v1::PRESENCE_STATUS_BREAK, "", "ghost").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PresenceTest, SupervisorsWatchTheirSiteAndAgentsTheirMentor) {
  auto eva = stack_->ClientFor("eva", v1::ROLE_SUPERVISOR);
  auto watch = eva->WatchPresence(v1::WatchPresenceRequest());
  auto first = watch->Next(absl::Seconds(5));
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  const v1::PresenceUpdate& snapshot = **first;
  EXPECT_TRUE(snapshot.snapshot());
  std::set<std::string> seen;
  for (const auto& p : snapshot.presence()) seen.insert(p.person());
  EXPECT_EQ(seen, (std::set<std::string>{"anna", "eva", "mei", "soren"}));  // not tom (osl)

  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_BREAK, "lunch").ok());
  bool saw_break = false;
  for (int i = 0; i < 20 && !saw_break; ++i) {
    auto next = watch->Next(absl::Seconds(1));
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) continue;
    EXPECT_FALSE((*next)->snapshot());
    for (const auto& p : (*next)->presence()) {
      if (p.person() == "soren" && p.status() == v1::PRESENCE_STATUS_BREAK) {
        EXPECT_EQ(p.reason(), "lunch");
        saw_break = true;
      }
    }
  }
  EXPECT_TRUE(saw_break) << "the supervisor never saw soren go on break";

  // The supervisor's event stream carries the same changes, live.
  auto events = eva->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*events, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto changed = WaitForEvent(*events, [](const v1::Event& e) {
    return e.has_presence_changed() && e.presence_changed().presence().person() == "soren" &&
           e.presence_changed().presence().status() == v1::PRESENCE_STATUS_AVAILABLE;
  });
  ASSERT_TRUE(changed.has_value()) << "no presence event on the supervisor's stream";
  EXPECT_TRUE(changed->cursor().empty());  // live only, never logged

  // Anna watches her mentor, and nobody else.
  auto mentor = anna_->WatchPresence(v1::WatchPresenceRequest());
  auto m = mentor->Next(absl::Seconds(5));
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
  ASSERT_EQ((*m)->presence_size(), 1);
  EXPECT_EQ((*m)->presence(0).person(), "soren");
  v1::WatchPresenceRequest mei;
  mei.add_people("mei");
  auto denied = anna_->WatchPresence(mei)->Next(absl::Seconds(5));
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  // A team leader of another site may not watch this one.
  v1::WatchPresenceRequest cph;
  cph.set_site("cph");
  auto tom = stack_->ClientFor("tom", v1::ROLE_TEAM_LEADER);
  EXPECT_EQ(tom->WatchPresence(cph)->Next(absl::Seconds(5)).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PresenceTest, RemovingSomeoneEndsTheirStreamsAndMovesTheirOffers) {
  auto mei = stack_->ClientFor("mei", v1::ROLE_SENIOR);
  auto mei_stream = mei->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*mei_stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(mei->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto stream = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna_->Escalate(Question());
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->offer().helper(), "soren");

  v1::ApplyRosterRequest without_soren;
  v1::Person anna = MakePerson("anna", v1::ROLE_AGENT);
  *without_soren.add_people() = anna;
  *without_soren.add_people() = MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 3}});
  auto applied = stack_->ClientFor("root", v1::ROLE_ADMIN)->ApplyRoster(without_soren);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->removed_size(), 3);  // soren, eva, tom
  ASSERT_EQ(applied->changes_size(), 1);  // anna lost her mentor
  EXPECT_EQ(applied->changes(0).id(), "anna");
  EXPECT_EQ(applied->changes(0).fields(0), "mentor");

  auto notice = WaitForEvent(*stream, [](const v1::Event& ev) { return ev.has_notice(); });
  ASSERT_TRUE(notice.has_value());
  EXPECT_EQ(notice->notice().code(), "removed_from_roster");
  absl::StatusOr<std::optional<v1::Event>> end;
  do {
    end = stream->Next(absl::Seconds(5));
  } while (end.ok() && end->has_value());
  EXPECT_EQ(end.status().code(), absl::StatusCode::kPermissionDenied) << end.status();
  // The offer moved on to mei; soren cannot come back.
  auto offer = WaitForEvent(*mei_stream, [](const v1::Event& ev) { return ev.has_offer(); });
  ASSERT_TRUE(offer.has_value()) << "soren's offer was not re-routed";
  EXPECT_EQ(offer->offer().escalation().id(), e->id());
  EXPECT_EQ(soren_->Subscribe("")->Next(absl::Seconds(5)).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PresenceTest, TwoPresenceInstancesGiveTheSameAnswers) {
  TestStack other(SharedRedis(), Stack::kPresence);
  auto here = stack_->ClientFor("anna", v1::ROLE_AGENT);
  auto there = other.ClientFor("anna", v1::ROLE_AGENT);
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  ASSERT_TRUE(
      other.ClientFor("mei", v1::ROLE_SENIOR)->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  v1::ListAvailableRequest r;
  r.set_skill("billing");
  auto a = here->ListAvailable(r);
  auto b = there->ListAvailable(r);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->people_size(), 2);
  ASSERT_EQ(b->people_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(a->people(i).person().id(), b->people(i).person().id());
    EXPECT_EQ(a->people(i).presence().status(), b->people(i).presence().status());
  }
  EXPECT_EQ(a->people(0).person().id(), "soren");  // best proficiency first
  r.set_min_proficiency(4);
  EXPECT_EQ(there->ListAvailable(r)->people_size(), 1);
}

TEST_F(PresenceTest, BadRostersChangeNothing) {
  auto admin = stack_->ClientFor("root", v1::ROLE_ADMIN);
  auto base = [] {
    v1::ApplyRosterRequest r;
    *r.add_people() = MakePerson("anna", v1::ROLE_AGENT);
    *r.add_people() = MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 5}});
    return r;
  };
  std::vector<std::pair<std::string, v1::ApplyRosterRequest>> cases;
  auto r = base();
  r.mutable_people(1)->mutable_skills(0)->set_proficiency(0);
  cases.emplace_back("proficiency 0", r);
  r = base();
  r.mutable_people(1)->mutable_skills(0)->set_proficiency(6);
  cases.emplace_back("proficiency 6", r);
  r = base();
  r.mutable_people(1)->set_role(static_cast<v1::Role>(42));
  cases.emplace_back("unknown role", r);
  r = base();
  r.mutable_people(1)->set_languages(0, "english please");
  cases.emplace_back("malformed language", r);
  r = base();
  *r.add_people() = MakePerson("anna", v1::ROLE_AGENT);
  cases.emplace_back("duplicate id", r);
  r = base();
  r.mutable_people(0)->set_mentor("nobody");
  cases.emplace_back("unknown mentor", r);
  r = base();
  for (int i = 0; i < 50000; ++i)
    *r.add_people() = MakePerson(absl::StrCat("p", i), v1::ROLE_AGENT);
  cases.emplace_back("50,000 people", r);
  for (const auto& [what, request] : cases) {
    const std::string digest = SharedRedis().Digest();
    auto resp = admin->ApplyRoster(request);
    EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument)
        << what << ": " << resp.status();
    EXPECT_NE(resp.status().message().find("people"), std::string::npos) << what;
    EXPECT_EQ(SharedRedis().Digest(), digest) << what << " changed Redis";
  }
}

}  // namespace
}  // namespace backline::testing
