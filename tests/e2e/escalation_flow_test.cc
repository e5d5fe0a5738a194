// The core promise end to end, over real gRPC with a real Redis: an agent escalates, the one
// eligible senior gets the offer on their stream, accepts, both chat in four languages byte for
// byte, the senior resolves and the agent sees it. Nobody ineligible is ever offered.
#include <gtest/gtest.h>

#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class EscalationFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
    stack_->ApplyRoster({
        MakePerson("anna", v1::ROLE_AGENT, {}, {"da", "en"}),
        MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}, {"refunds", 3}},
                   {"da", "en", "zh-Hant", "nl", "lt"}),
        // Has the skill but not the language.
        MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 5}}, {"zh-Hant", "en"}),
        // Has the language but too little proficiency.
        MakePerson("jonas", v1::ROLE_SENIOR, {{"billing", 2}}, {"da"}),
        // Has the language but not the skill.
        MakePerson("lars", v1::ROLE_SENIOR, {{"refunds", 5}}, {"da"}),
        // Would qualify, but is on a call.
        MakePerson("ida", v1::ROLE_SENIOR, {{"billing", 5}}, {"da"}),
    });
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
    for (const char* id : {"soren", "mei", "jonas", "lars"}) {
      ASSERT_TRUE(
          stack_->ClientFor(id, v1::ROLE_SENIOR)->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
    }
    ASSERT_TRUE(
        stack_->ClientFor("ida", v1::ROLE_SENIOR)->SetStatus(v1::PRESENCE_STATUS_ON_CALL).ok());
  }

  v1::CreateEscalationRequest RefundQuestion() {
    v1::CreateEscalationRequest r;
    r.set_question("customer asks about a refund");
    r.set_language("da");
    auto* s = r.add_skills();
    s->set_skill("billing");
    s->set_min_proficiency(3);
    return r;
  }

  // Every event ever recorded for `user`.
  std::vector<v1::Event> AllEvents(const std::string& user, v1::Role role) {
    auto client = stack_->ClientFor(user, role);
    auto stream = client->Subscribe("0");
    std::vector<v1::Event> out;
    while (true) {
      auto ev = stream->Next(absl::Seconds(5));
      if (!ev.ok() || !ev->has_value() || (*ev)->has_caught_up()) break;
      out.push_back(**ev);
    }
    return out;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_;
};

TEST_F(EscalationFlowTest, EscalateOfferAcceptChatResolve) {
  auto soren_events = soren_->Subscribe("");
  auto anna_events = anna_->Subscribe("");
  // Both streams are live once they report being caught up.
  ASSERT_TRUE(WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(WaitForEvent(*anna_events, [](const v1::Event& e) { return e.has_caught_up(); }));

  auto created = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(created->offer().helper(), "soren");
  EXPECT_EQ(created->requester(), "anna");
  EXPECT_EQ(created->team(), "cph-billing");

  auto offer = WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_offer(); });
  ASSERT_TRUE(offer.has_value()) << "soren never got the offer";
  EXPECT_EQ(offer->offer().escalation().id(), created->id());
  EXPECT_EQ(offer->offer().escalation().question(), "customer asks about a refund");
  EXPECT_FALSE(offer->cursor().empty());

  auto accepted = soren_->AcceptOffer(created->id(), offer->offer().offer().offer_id());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->state(), v1::ESCALATION_STATE_ACCEPTED);
  EXPECT_EQ(accepted->helper(), "soren");
  ASSERT_FALSE(accepted->thread_id().empty());
  const std::string thread = accepted->thread_id();

  // The requester learns that it was accepted and where the thread is.
  auto anna_accepted = WaitForEvent(*anna_events, [](const v1::Event& e) {
    return e.has_escalation_updated() &&
           e.escalation_updated().escalation().state() == v1::ESCALATION_STATE_ACCEPTED;
  });
  ASSERT_TRUE(anna_accepted.has_value());
  EXPECT_EQ(anna_accepted->escalation_updated().escalation().thread_id(), thread);

  auto presence = soren_->GetPresence();
  ASSERT_TRUE(presence.ok());
  EXPECT_EQ(presence->load(), 1);
  EXPECT_EQ(presence->routing_state(), v1::ROUTING_STATE_ENGAGED);

  // They chat in four languages; every text arrives byte for byte on the other side.
  const std::vector<std::pair<Client*, std::string>> lines = {
      {anna_.get(), ReadTestData("seeds/da-relationer.txt")},
      {soren_.get(), ReadTestData("seeds/zh-Hant-callcenter.txt")},
      {anna_.get(), ReadTestData("seeds/nl-callcenter.txt")},
      {soren_.get(), ReadTestData("seeds/lt-skambuciu-centras.txt")},
  };
  for (const auto& [sender, text] : lines) {
    auto posted = sender->Post(thread, text);
    ASSERT_TRUE(posted.ok()) << posted.status();
    EventStream& receiver = sender == anna_.get() ? *soren_events : *anna_events;
    auto got = WaitForEvent(receiver, [&](const v1::Event& e) {
      return e.has_message_posted() && e.message_posted().message().seq() == posted->seq();
    });
    ASSERT_TRUE(got.has_value()) << "message " << posted->seq() << " not delivered";
    EXPECT_EQ(got->message_posted().message().text(), text);
  }
  v1::ListMessagesRequest history;
  history.set_thread_id(thread);
  auto listed = soren_->ListMessages(history);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->messages_size(), 5);  // the system message, then the four texts
  EXPECT_EQ(listed->messages(0).kind(), v1::MESSAGE_KIND_SYSTEM);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(listed->messages(i + 1).text(), lines[i].second);
    EXPECT_EQ(listed->messages(i + 1).seq(), static_cast<int64_t>(i + 2));
  }

  auto resolved = soren_->ResolveEscalation(created->id(), "refund approved");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  auto anna_resolved = WaitForEvent(*anna_events, [](const v1::Event& e) {
    return e.has_escalation_updated() &&
           e.escalation_updated().escalation().state() == v1::ESCALATION_STATE_RESOLVED;
  });
  ASSERT_TRUE(anna_resolved.has_value());
  auto final_state = anna_->GetEscalation(created->id());
  ASSERT_TRUE(final_state.ok());
  EXPECT_EQ(final_state->state(), v1::ESCALATION_STATE_RESOLVED);
  EXPECT_TRUE(final_state->timeline().has_resolve_time());
  EXPECT_EQ(soren_->GetPresence()->load(), 0);

  // Nobody who lacked the skill, the proficiency or the language, or was not available, was
  // ever offered anything.
  for (const char* id : {"mei", "jonas", "lars", "ida"}) {
    for (const v1::Event& e : AllEvents(id, v1::ROLE_SENIOR)) {
      EXPECT_FALSE(e.has_offer()) << id << " was offered " << e.offer().escalation().id();
    }
  }
}

TEST_F(EscalationFlowTest, QueuedUntilSomeoneEligibleBecomesAvailable) {
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_BREAK, "lunch").ok());
  auto created = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->state(), v1::ESCALATION_STATE_QUEUED);

  auto soren_events = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto offer = WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_offer(); });
  ASSERT_TRUE(offer.has_value()) << "the queued escalation was not offered when soren came back";
  EXPECT_EQ(offer->offer().escalation().id(), created->id());
}

TEST_F(EscalationFlowTest, ARosterChangeOnAnotherInstanceReachesTheNextEscalation) {
  // The router keeps the requesters' roster records between escalations; a roster applied
  // through another instance must still decide the next one.
  auto first = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->team(), "cph-billing");
  EXPECT_EQ(first->site(), "cph");

  TestStack other(SharedRedis());
  other.ApplyRoster({
      MakePerson("anna", v1::ROLE_AGENT, {}, {"da", "en"}, -1, "aar-refunds", "aar"),
      MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "en"}),
  });
  auto second = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->team(), "aar-refunds");
  EXPECT_EQ(second->site(), "aar");

  other.ApplyRoster({MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "en"})});
  auto third = anna_->Escalate(RefundQuestion());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kFailedPrecondition) << third.status();
}

TEST_F(EscalationFlowTest, ARequestersNextEscalationDoesNotReadTheirRosterRecordAgain) {
  // The round trip the router saves: with anna's record gone from Redis behind the roster's
  // back (the stamp unchanged), only a router that reads it again would refuse her.
  auto first = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(first.ok()) << first.status();
  store::RedisClient redis(SharedRedis().client_options());
  ASSERT_TRUE(redis.Command({"DEL", store::Keys().Person("anna")}).ok());
  auto second = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->team(), "cph-billing");
}

TEST_F(EscalationFlowTest, AnEscalationIsOfferedInTwoRedisRoundTrips) {
  // Once the router knows the requester: the create script with the first ring's ranking in one
  // round trip, then the offer script — and the read-back of the answer, a third (the fewest of
  // several tries, as the stack's own loops read too).
  store::RedisClient info(SharedRedis().client_options());
  auto first = anna_->Escalate(RefundQuestion());  // the router reads anna's record
  ASSERT_TRUE(first.ok()) << first.status();
  std::string previous = first->id();
  long long fewest = -1;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(anna_->CancelEscalation(previous, "asked again").ok());  // soren is free again
    const long long before = RedisReadsProcessed(info);
    auto e = anna_->Escalate(RefundQuestion());
    const long long reads = RedisReadsProcessed(info) - before - 1;  // the second INFO too
    ASSERT_TRUE(e.ok()) << e.status();
    ASSERT_EQ(e->state(), v1::ESCALATION_STATE_OFFERED);
    ASSERT_EQ(e->offers(0).helper(), "soren");
    previous = e->id();
    if (fewest < 0 || reads < fewest) fewest = reads;
  }
  EXPECT_EQ(fewest, 3);
}

TEST_F(EscalationFlowTest, ARosterAppliedAgainAfterRedisLostItsDataReachesTheNextEscalation) {
  // A roster applied to an emptied Redis counts its versions from the start again: the kept
  // records must not pass for current because a version number came round again.
  auto first = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->team(), "cph-billing");
  SharedRedis().Flush();
  stack_->ApplyRoster({
      MakePerson("anna", v1::ROLE_AGENT, {}, {"da", "en"}, -1, "aar-refunds", "aar"),
      MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "en"}),
  });
  auto second = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->team(), "aar-refunds");
}

TEST_F(EscalationFlowTest, DeclineMovesOnAndIsNotOfferedAgain) {
  // A second eligible senior.
  auto ida = stack_->ClientFor("ida", v1::ROLE_SENIOR);
  ASSERT_TRUE(ida->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto created = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(created.ok());
  // ida (billing 5) ranks above soren (billing 4).
  ASSERT_EQ(created->offer().helper(), "ida");
  auto declined = ida->DeclineOffer(created->id(), "", "not my area today");
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(declined->state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(declined->offer().helper(), "soren");
  EXPECT_EQ(declined->declined_by(0), "ida");
  EXPECT_EQ(ida->GetPresence()->load(), 0);

  // soren declines too: nobody is left, it waits; ida is not offered it again.
  auto again = soren_->DeclineOffer(created->id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), v1::ESCALATION_STATE_QUEUED);
  ASSERT_TRUE(ida->SetStatus(v1::PRESENCE_STATUS_BREAK).ok());
  ASSERT_TRUE(ida->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(anna_->GetEscalation(created->id())->state(), v1::ESCALATION_STATE_QUEUED);
}

TEST_F(EscalationFlowTest, CancelWhileOfferedFreesTheHelper) {
  auto soren_events = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_caught_up(); }));
  auto created = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(soren_->GetPresence()->load(), 1);
  auto cancelled = anna_->CancelEscalation(created->id(), "customer hung up");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::ESCALATION_STATE_CANCELLED);
  auto closed =
      WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_offer_closed(); });
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->offer_closed().reason(), "cancelled");
  EXPECT_EQ(soren_->GetPresence()->load(), 0);
  // A cancelled escalation cannot be accepted, cancelled or resolved again.
  EXPECT_EQ(soren_->AcceptOffer(created->id()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(anna_->CancelEscalation(created->id()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EscalationFlowTest, LapsedOffersMoveOnAndRepeatedMissesSetBreak) {
  // A stack with short offer deadlines; only soren is eligible.
  ServerConfig config = TestConfig(SharedRedis());
  config.routing.offer_timeout = absl::Milliseconds(300);
  config.routing.max_missed_offers = 2;
  stack_.reset();
  stack_ = std::make_unique<TestStack>(config, Stack::kAll);
  anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
  soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  auto soren_events = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_caught_up(); }));

  auto first = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->offer().helper(), "soren");
  auto lapsed = WaitForEvent(*soren_events, [](const v1::Event& e) {
    return e.has_offer_closed() && e.offer_closed().reason() == "timeout";
  });
  ASSERT_TRUE(lapsed.has_value()) << "the offer never lapsed";
  // Nobody else is eligible and soren let it lapse: it waits in the queue.
  EXPECT_EQ(anna_->GetEscalation(first->id())->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(soren_->GetPresence()->missed_offers(), 1);
  // A late accept is refused.
  EXPECT_EQ(soren_->AcceptOffer(first->id()).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto second = anna_->Escalate(RefundQuestion());
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->offer().helper(), "soren");
  auto notice = WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_notice(); });
  ASSERT_TRUE(notice.has_value()) << "soren was not told about being set on break";
  EXPECT_EQ(notice->notice().code(), "missed_offers");
  auto p = soren_->GetPresence();
  EXPECT_EQ(p->status(), v1::PRESENCE_STATUS_BREAK);
  EXPECT_EQ(p->reason(), "missed offers");
  EXPECT_EQ(p->load(), 0);
}

}  // namespace
}  // namespace backline::testing
