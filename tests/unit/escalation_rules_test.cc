// Unit tests for services/router/escalation_rules: request validation, queue order, transitions.
#include "services/router/escalation_rules.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/clock.h"
#include "services/common/events.h"

namespace backline::router {
namespace {

using google::protobuf::util::MessageDifferencer;

// 2024-05-01 10:00:00 UTC.
const absl::Time kStart = absl::FromUnixSeconds(1714557600);

v1::CreateEscalationRequest ValidRequest() {
  v1::CreateEscalationRequest r;
  r.set_question("Kunden spørger om refusion af dobbelt betaling");
  r.set_language("da");
  r.add_skills()->set_skill("billing");
  return r;
}

void ExpectInvalid(v1::CreateEscalationRequest r, const std::string& message) {
  absl::Status st = ValidateCreateRequest(&r);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(st.message(), message);
}

// ---------------------------------------------------------------------------------------------
// ValidateCreateRequest

TEST(ValidateCreateRequestTest, AcceptsAndFillsDefaults) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_language("ZH-hant-tw");
  r.add_skills()->set_skill("refunds");
  r.mutable_skills(1)->set_min_proficiency(3);
  absl::Status st = ValidateCreateRequest(&r);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(r.language(), "zh-Hant-TW");
  EXPECT_EQ(r.priority(), v1::PRIORITY_NORMAL);
  EXPECT_EQ(r.skills(0).min_proficiency(), 1) << "0 means the default, 1";
  EXPECT_EQ(r.skills(1).min_proficiency(), 3);
}

TEST(ValidateCreateRequestTest, KeepsGivenPriority) {
  for (v1::Priority p : {v1::PRIORITY_NORMAL, v1::PRIORITY_HIGH, v1::PRIORITY_URGENT}) {
    v1::CreateEscalationRequest r = ValidRequest();
    r.set_priority(p);
    ASSERT_TRUE(ValidateCreateRequest(&r).ok());
    EXPECT_EQ(r.priority(), p);
  }
}

TEST(ValidateCreateRequestTest, UnknownPriority) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_priority(static_cast<v1::Priority>(42));
  ExpectInvalid(r, "priority: unknown value");
}

TEST(ValidateCreateRequestTest, Question) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_question("");
  ExpectInvalid(r, "question: must not be empty");

  r.set_question("abcd\xC0\xAF");
  ExpectInvalid(r, "question: invalid UTF-8 at byte 4");

  r.set_question("\xED\xA0\x80");
  ExpectInvalid(r, "question: invalid UTF-8 at byte 0");

  r.set_question(std::string(4097, 'q'));
  ExpectInvalid(r, "question: 4097 bytes is over the limit of 4096");

  r.set_question(std::string(4096, 'q'));
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());

  // 2048 two-byte characters are exactly 4096 bytes; one more byte is too many.
  std::string danish;
  for (int i = 0; i < 2048; ++i) danish += "ø";
  r.set_question(danish);
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  r.set_question(danish + "x");
  ExpectInvalid(r, "question: 4097 bytes is over the limit of 4096");
}

TEST(ValidateCreateRequestTest, Tried) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_tried("");
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  r.set_tried(std::string(4097, 't'));
  ExpectInvalid(r, "tried: 4097 bytes is over the limit of 4096");
  r.set_tried("ok \xFF");
  ExpectInvalid(r, "tried: invalid UTF-8 at byte 3");
}

TEST(ValidateCreateRequestTest, SkillCount) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.clear_skills();
  ExpectInvalid(r, "skills: at least one is required");

  for (int i = 0; i < 8; ++i) r.add_skills()->set_skill(absl::StrCat("skill", i));
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  r.add_skills()->set_skill("skill8");
  ExpectInvalid(r, "skills: more than 8 skills");
}

TEST(ValidateCreateRequestTest, DuplicateSkill) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.add_skills()->set_skill("refunds");
  v1::SkillRequirement* again = r.add_skills();
  again->set_skill("billing");
  again->set_min_proficiency(4);
  ExpectInvalid(r, "skills[2].skill: \"billing\" is listed twice");
}

TEST(ValidateCreateRequestTest, BadSkillName) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.mutable_skills(0)->set_skill("Billing");
  ExpectInvalid(r, "skills[0].skill: \"Billing\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})");
  r.mutable_skills(0)->set_skill("");
  ExpectInvalid(r, "skills[0].skill: required");
}

TEST(ValidateCreateRequestTest, MinProficiency) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.mutable_skills(0)->set_min_proficiency(6);
  ExpectInvalid(r, "skills[0].min_proficiency: 6 is outside 1..5");
  r.mutable_skills(0)->set_min_proficiency(-1);
  ExpectInvalid(r, "skills[0].min_proficiency: -1 is outside 1..5");
  r.mutable_skills(0)->set_min_proficiency(5);
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  EXPECT_EQ(r.skills(0).min_proficiency(), 5);
}

TEST(ValidateCreateRequestTest, Language) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_language("");
  ExpectInvalid(r, "language: required");
  r.set_language("dansk");
  ExpectInvalid(r, "language: \"dansk\" is not a BCP-47 language tag such as da, zh-Hant or pt-BR");
  r.set_language("da--DK");
  ExpectInvalid(r,
                "language: \"da--DK\" is not a BCP-47 language tag such as da, zh-Hant or pt-BR");
  r.set_language("PT-br");
  ASSERT_TRUE(ValidateCreateRequest(&r).ok());
  EXPECT_EQ(r.language(), "pt-BR");
}

TEST(ValidateCreateRequestTest, CustomerCallIdAndSegment) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.mutable_customer()->set_call_id(std::string(128, 'c'));
  r.mutable_customer()->set_segment(std::string(128, 's'));
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  r.mutable_customer()->set_call_id(std::string(129, 'c'));
  ExpectInvalid(r, "customer.call_id: 129 bytes is over the limit of 128");
  r.mutable_customer()->set_call_id("call-1");
  r.mutable_customer()->set_segment(std::string(129, 's'));
  ExpectInvalid(r, "customer.segment: 129 bytes is over the limit of 128");
}

TEST(ValidateCreateRequestTest, CustomerAttributes) {
  v1::CreateEscalationRequest r = ValidRequest();
  auto* attrs = r.mutable_customer()->mutable_attributes();
  for (int i = 0; i < 32; ++i) (*attrs)[absl::StrCat("k", i)] = "v";
  (*attrs)[std::string(64, 'k')] = std::string(1024, 'v');
  attrs->erase("k0");
  ASSERT_EQ(attrs->size(), 32u);
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());

  (*attrs)["k0"] = "v";
  ExpectInvalid(r, "customer.attributes: more than 32 entries");

  r = ValidRequest();
  attrs = r.mutable_customer()->mutable_attributes();
  (*attrs)[""] = "v";
  ExpectInvalid(r, "customer.attributes key: must not be empty");

  r = ValidRequest();
  attrs = r.mutable_customer()->mutable_attributes();
  (*attrs)[std::string(65, 'k')] = "v";
  ExpectInvalid(r, "customer.attributes key: 65 bytes is over the limit of 64");

  r = ValidRequest();
  attrs = r.mutable_customer()->mutable_attributes();
  (*attrs)["tier"] = std::string(1025, 'v');
  ExpectInvalid(r, "customer.attributes[tier]: 1025 bytes is over the limit of 1024");

  r = ValidRequest();
  attrs = r.mutable_customer()->mutable_attributes();
  (*attrs)["note"] = "bad \xC0\xAF";
  ExpectInvalid(r, "customer.attributes[note]: invalid UTF-8 at byte 4");

  r = ValidRequest();
  attrs = r.mutable_customer()->mutable_attributes();
  (*attrs)["note"] = "";
  EXPECT_TRUE(ValidateCreateRequest(&r).ok()) << "empty values are allowed";
}

TEST(ValidateCreateRequestTest, RequestId) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_request_id("req-2024.05.01_a:1");
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
  r.set_request_id("bad id!");
  ExpectInvalid(r, "request_id: \"bad id!\" is not a valid key ([A-Za-z0-9._:-]{1,64})");
  r.set_request_id(std::string(65, 'r'));
  ExpectInvalid(r, absl::StrCat("request_id: \"", std::string(40, 'r'),
                                "\" is not a valid key ([A-Za-z0-9._:-]{1,64})"));
  r.set_request_id(std::string(64, 'r'));
  EXPECT_TRUE(ValidateCreateRequest(&r).ok());
}

// ---------------------------------------------------------------------------------------------
// NewEscalation

v1::Person Requester() {
  v1::Person p;
  p.set_id("anna");
  p.set_role(v1::ROLE_AGENT);
  p.set_team("cph-billing");
  p.set_site("cph");
  return p;
}

TEST(NewEscalationTest, CopiesTheRequestAndStartsQueued) {
  FakeClock clock(kStart);
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_tried("looked in the FAQ");
  r.set_priority(v1::PRIORITY_HIGH);
  r.mutable_skills(0)->set_min_proficiency(3);
  r.mutable_customer()->set_call_id("call-77");
  (*r.mutable_customer()->mutable_attributes())["tier"] = "gold";
  r.set_request_id("req-1");

  v1::Escalation e = NewEscalation("esc-7k2m9q4xwd", Requester(), r, clock.Now());
  EXPECT_EQ(e.id(), "esc-7k2m9q4xwd");
  EXPECT_EQ(e.requester(), "anna");
  EXPECT_EQ(e.question(), r.question());
  EXPECT_EQ(e.tried(), "looked in the FAQ");
  ASSERT_EQ(e.skills_size(), 1);
  EXPECT_EQ(e.skills(0).skill(), "billing");
  EXPECT_EQ(e.skills(0).min_proficiency(), 3);
  EXPECT_EQ(e.language(), "da");
  EXPECT_EQ(e.priority(), v1::PRIORITY_HIGH);
  EXPECT_TRUE(MessageDifferencer::Equals(e.customer(), r.customer()));
  EXPECT_EQ(e.team(), "cph-billing");
  EXPECT_EQ(e.site(), "cph");
  EXPECT_EQ(e.state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(e.version(), 1);
  EXPECT_EQ(FromProtoTime(e.timeline().create_time()), kStart);
  EXPECT_FALSE(e.timeline().has_first_offer_time());
  EXPECT_FALSE(e.has_offer());
  EXPECT_TRUE(e.helper().empty());
  // The thread opens with the escalation, so bots can post into it before anyone accepts.
  EXPECT_EQ(e.thread_id(), ThreadIdFor(e.id()));
  EXPECT_EQ(e.declined_by_size(), 0);
}

// ---------------------------------------------------------------------------------------------
// Queue order

v1::Escalation Queued(v1::Priority priority, absl::Time created,
                      absl::Time call_start = absl::InfinitePast()) {
  v1::Escalation e;
  e.set_priority(priority);
  *e.mutable_timeline()->mutable_create_time() = ToProtoTime(created);
  if (call_start != absl::InfinitePast()) {
    *e.mutable_customer()->mutable_call_start_time() = ToProtoTime(call_start);
  }
  return e;
}

TEST(EstimatedWaitTest, RecentWaitTimesPlaceInLineLessWhatWasWaited) {
  const absl::Duration recent = absl::Seconds(40);
  EXPECT_EQ(EstimatedWait(recent, 1, absl::ZeroDuration()), absl::Seconds(40));
  EXPECT_EQ(EstimatedWait(recent, 3, absl::ZeroDuration()), absl::Seconds(120));
  EXPECT_EQ(EstimatedWait(recent, 3, absl::Seconds(25)), absl::Seconds(95));
  // No place known yet counts as first in line.
  EXPECT_EQ(EstimatedWait(recent, 0, absl::Seconds(10)), absl::Seconds(30));
  // Waited longer than the estimate: none left, not a negative wait.
  EXPECT_EQ(EstimatedWait(recent, 2, absl::Seconds(100)), absl::ZeroDuration());
}

TEST(QueueScoreTest, PriorityBeatsAge) {
  // A fresh URGENT call goes before a HIGH call that has waited ten days, and so on.
  const v1::Escalation urgent_new = Queued(v1::PRIORITY_URGENT, kStart);
  const v1::Escalation high_old = Queued(v1::PRIORITY_HIGH, kStart - absl::Hours(240));
  const v1::Escalation high_new = Queued(v1::PRIORITY_HIGH, kStart);
  const v1::Escalation normal_old = Queued(v1::PRIORITY_NORMAL, kStart - absl::Hours(240));
  EXPECT_LT(QueueScore(urgent_new), QueueScore(high_old));
  EXPECT_LT(QueueScore(high_new), QueueScore(normal_old));
  EXPECT_LT(QueueScore(urgent_new), QueueScore(normal_old));
  // Even against a call from the epoch.
  EXPECT_LT(QueueScore(Queued(v1::PRIORITY_URGENT, kStart + absl::Hours(24 * 365 * 100))),
            QueueScore(Queued(v1::PRIORITY_HIGH, absl::UnixEpoch())));
}

TEST(QueueScoreTest, OlderCallFirstWithinAPriority) {
  for (v1::Priority p : {v1::PRIORITY_NORMAL, v1::PRIORITY_HIGH, v1::PRIORITY_URGENT}) {
    EXPECT_LT(QueueScore(Queued(p, kStart)), QueueScore(Queued(p, kStart + absl::Milliseconds(1))))
        << p;
  }
  // The customer's call start counts, not when the agent escalated.
  const v1::Escalation escalated_early_call_new =
      Queued(v1::PRIORITY_NORMAL, kStart, kStart - absl::Minutes(1));
  const v1::Escalation escalated_late_call_old =
      Queued(v1::PRIORITY_NORMAL, kStart + absl::Minutes(5), kStart - absl::Minutes(20));
  EXPECT_LT(QueueScore(escalated_late_call_old), QueueScore(escalated_early_call_new));
}

TEST(QueueScoreTest, ExactValues) {
  const int64_t ms = absl::ToUnixMillis(kStart);
  EXPECT_EQ(QueueScore(Queued(v1::PRIORITY_URGENT, kStart)), static_cast<double>(ms));
  EXPECT_EQ(QueueScore(Queued(v1::PRIORITY_HIGH, kStart)), 1e13 + static_cast<double>(ms));
  EXPECT_EQ(QueueScore(Queued(v1::PRIORITY_NORMAL, kStart)), 2e13 + static_cast<double>(ms));
  // UNSPECIFIED counts as NORMAL.
  EXPECT_EQ(QueueScore(Queued(v1::PRIORITY_UNSPECIFIED, kStart)),
            QueueScore(Queued(v1::PRIORITY_NORMAL, kStart)));
  // The call start when it is the earlier time.
  EXPECT_EQ(QueueScore(Queued(v1::PRIORITY_URGENT, kStart, kStart - absl::Seconds(30))),
            static_cast<double>(ms - 30000));
}

TEST(QueueRequirementsTest, ExactString) {
  v1::Escalation e;
  e.set_language("zh-Hant");
  e.set_requester("anna");
  v1::SkillRequirement* s = e.add_skills();
  s->set_skill("billing");
  s->set_min_proficiency(4);
  s = e.add_skills();
  s->set_skill("refunds");
  s->set_min_proficiency(1);
  EXPECT_EQ(QueueRequirements(e), "zh-Hant|anna|billing:4;refunds:1;");
}

TEST(QueueRequirementsTest, FromAValidatedRequest) {
  v1::CreateEscalationRequest r = ValidRequest();
  r.set_language("DA");
  ASSERT_TRUE(ValidateCreateRequest(&r).ok());
  v1::Escalation e = NewEscalation("esc-0000000001", Requester(), r, kStart);
  EXPECT_EQ(QueueRequirements(e), "da|anna|billing:1;");
}

// ---------------------------------------------------------------------------------------------
// Ids and timers

TEST(ThreadIdForTest, ReplacesThePrefix) {
  EXPECT_EQ(ThreadIdFor("esc-7k2m9q4xwd"), "thr-7k2m9q4xwd");
  EXPECT_EQ(ThreadIdFor("esc-a-b"), "thr-a-b");
  EXPECT_EQ(ThreadIdFor("nodash"), "thr-nodash");
}

TEST(TimerTest, MemberFormatAndRoundTrip) {
  v1::Escalation e;
  e.set_id("esc-7k2m9q4xwd");
  e.set_version(3);
  EXPECT_EQ(OfferTimerMember(e), "offer|esc-7k2m9q4xwd|3");
  EXPECT_EQ(TimerMember("ring", e.id(), 2), "ring|esc-7k2m9q4xwd|2");

  std::string kind, id;
  int64_t detail = 0;
  ASSERT_TRUE(ParseTimer(OfferTimerMember(e), &kind, &id, &detail));
  EXPECT_EQ(kind, "offer");
  EXPECT_EQ(id, "esc-7k2m9q4xwd");
  EXPECT_EQ(detail, 3);

  e.set_version(std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(ParseTimer(OfferTimerMember(e), &kind, &id, &detail));
  EXPECT_EQ(detail, std::numeric_limits<int64_t>::max());
}

TEST(TimerTest, RejectsMalformedMembers) {
  for (const char* member :
       {"", "offer", "offer|esc-1", "offer|esc-1|", "offer|esc-1|x", "offer|esc-1|3x",
        "offer|esc-1|3|4", "offer|esc-1|1.5", "offer|esc-1|99999999999999999999"}) {
    std::string kind, id;
    int64_t detail = 0;
    EXPECT_FALSE(ParseTimer(member, &kind, &id, &detail)) << member;
  }
}

TEST(IsFinalTest, OnlyResolvedCancelledExpired) {
  EXPECT_TRUE(IsFinal(v1::ESCALATION_STATE_RESOLVED));
  EXPECT_TRUE(IsFinal(v1::ESCALATION_STATE_CANCELLED));
  EXPECT_TRUE(IsFinal(v1::ESCALATION_STATE_EXPIRED));
  EXPECT_FALSE(IsFinal(v1::ESCALATION_STATE_UNSPECIFIED));
  EXPECT_FALSE(IsFinal(v1::ESCALATION_STATE_QUEUED));
  EXPECT_FALSE(IsFinal(v1::ESCALATION_STATE_OFFERED));
  EXPECT_FALSE(IsFinal(v1::ESCALATION_STATE_ACCEPTED));
}

// ---------------------------------------------------------------------------------------------
// Transitions

class TransitionTest : public ::testing::Test {
 protected:
  TransitionTest() : clock_(kStart) {
    v1::CreateEscalationRequest r = ValidRequest();
    EXPECT_TRUE(ValidateCreateRequest(&r).ok());
    queued_ = NewEscalation("esc-7k2m9q4xwd", Requester(), r, clock_.Now());
  }

  FakeClock clock_;
  v1::Escalation queued_;
};

TEST_F(TransitionTest, WithOfferSetsTheOffer) {
  clock_.Advance(absl::Seconds(2));
  const absl::Time now = clock_.Now();
  v1::Escalation o = WithOffer(queued_, "soren", "off-1", now, now + absl::Seconds(15));
  EXPECT_EQ(o.state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(o.version(), 2);
  EXPECT_EQ(o.offer().offer_id(), "off-1");
  EXPECT_EQ(o.offer().escalation_id(), "esc-7k2m9q4xwd");
  EXPECT_EQ(o.offer().helper(), "soren");
  EXPECT_EQ(FromProtoTime(o.offer().offer_time()), now);
  EXPECT_EQ(FromProtoTime(o.offer().deadline()), now + absl::Seconds(15));
  EXPECT_EQ(FromProtoTime(o.timeline().first_offer_time()), now);
  EXPECT_EQ(FromProtoTime(o.timeline().create_time()), kStart);
  // The input is untouched.
  EXPECT_EQ(queued_.state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(queued_.version(), 1);
  EXPECT_FALSE(queued_.has_offer());
}

TEST_F(TransitionTest, RequeuedRecordsTheDeclineAndKeepsFirstOfferTime) {
  const absl::Time first = clock_.Now() + absl::Seconds(1);
  v1::Escalation o1 = WithOffer(queued_, "soren", "off-1", first, first + absl::Seconds(15));
  v1::Escalation q1 = Requeued(o1);
  EXPECT_EQ(q1.state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(q1.version(), 3);
  EXPECT_FALSE(q1.has_offer());
  EXPECT_EQ(std::vector<std::string>(q1.declined_by().begin(), q1.declined_by().end()),
            (std::vector<std::string>{"soren"}));
  EXPECT_EQ(FromProtoTime(q1.timeline().first_offer_time()), first);

  const absl::Time second = first + absl::Seconds(20);
  v1::Escalation o2 = WithOffer(q1, "mei", "off-2", second, second + absl::Seconds(15));
  EXPECT_EQ(o2.version(), 4);
  EXPECT_EQ(o2.offer().offer_id(), "off-2");
  EXPECT_EQ(o2.offer().helper(), "mei");
  EXPECT_EQ(FromProtoTime(o2.offer().offer_time()), second);
  EXPECT_EQ(FromProtoTime(o2.timeline().first_offer_time()), first) << "set only once";

  v1::Escalation q2 = Requeued(o2);
  EXPECT_EQ(q2.version(), 5);
  EXPECT_EQ(std::vector<std::string>(q2.declined_by().begin(), q2.declined_by().end()),
            (std::vector<std::string>{"soren", "mei"}));
}

TEST_F(TransitionTest, WithAcceptOpensTheThread) {
  const absl::Time offered = clock_.Now();
  v1::Escalation o = WithOffer(queued_, "soren", "off-1", offered, offered + absl::Seconds(15));
  clock_.Advance(absl::Seconds(4));
  v1::Escalation a = WithAccept(o, "soren", clock_.Now());
  EXPECT_EQ(a.state(), v1::ESCALATION_STATE_ACCEPTED);
  EXPECT_EQ(a.version(), 3);
  EXPECT_EQ(a.helper(), "soren");
  EXPECT_EQ(a.thread_id(), "thr-7k2m9q4xwd");
  EXPECT_FALSE(a.has_offer());
  EXPECT_EQ(FromProtoTime(a.timeline().accept_time()), kStart + absl::Seconds(4));
  EXPECT_EQ(FromProtoTime(a.timeline().first_offer_time()), offered);
  EXPECT_EQ(a.declined_by_size(), 0);
}

TEST_F(TransitionTest, OffersToSeveralAtOnce) {
  const absl::Time now = clock_.Now();
  v1::Escalation o = WithOffers(queued_, {{"soren", "off-1"}, {"mei", "off-2"}, {"karl", "off-3"}},
                                now, now + absl::Seconds(15));
  EXPECT_EQ(o.state(), v1::ESCALATION_STATE_OFFERED);
  ASSERT_EQ(o.offers_size(), 3);
  EXPECT_EQ(o.offer().helper(), "soren") << "offer is the best-ranked of offers";
  EXPECT_EQ(PendingHelpers(o), (std::vector<std::string>{"soren", "mei", "karl"}));
  EXPECT_EQ(std::vector<std::string>(o.offered_to().begin(), o.offered_to().end()),
            (std::vector<std::string>{"karl", "mei", "soren"}));
  ASSERT_NE(PendingOfferTo(o, "mei"), nullptr);
  EXPECT_EQ(PendingOfferTo(o, "mei")->offer_id(), "off-2");
  EXPECT_EQ(PendingOfferTo(o, "lis"), nullptr);
  // Each helper's offer event carries their own offer.
  EXPECT_EQ(OfferMadeEvent(o, "karl", now).offer().offer().offer_id(), "off-3");

  // One declines: still offered to the other two, and the first of them is `offer` now.
  v1::Escalation d = WithoutOffers(o, {"soren"});
  EXPECT_EQ(d.state(), v1::ESCALATION_STATE_OFFERED);
  EXPECT_EQ(d.version(), o.version() + 1);
  EXPECT_EQ(PendingHelpers(d), (std::vector<std::string>{"mei", "karl"}));
  EXPECT_EQ(d.offer().helper(), "mei");
  EXPECT_EQ(std::vector<std::string>(d.declined_by().begin(), d.declined_by().end()),
            (std::vector<std::string>{"soren"}));
  // Karl accepts: every offer is gone.
  v1::Escalation a = WithAccept(d, "karl", now + absl::Seconds(2));
  EXPECT_EQ(a.helper(), "karl");
  EXPECT_EQ(a.offers_size(), 0);
  EXPECT_FALSE(a.has_offer());
  // All lapse instead: queued again, all three declined.
  v1::Escalation q = Requeued(o);
  EXPECT_EQ(q.state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(q.offers_size(), 0);
  EXPECT_EQ(q.declined_by_size(), 3);
}

TEST_F(TransitionTest, ClosedStampsTheMatchingTime) {
  const absl::Time offered = clock_.Now();
  v1::Escalation a =
      WithAccept(WithOffer(queued_, "soren", "off-1", offered, offered + absl::Seconds(15)),
                 "soren", offered + absl::Seconds(3));
  clock_.Advance(absl::Minutes(10));
  const absl::Time now = clock_.Now();

  v1::Escalation resolved = Closed(a, v1::ESCALATION_STATE_RESOLVED, "fixed the invoice", now);
  EXPECT_EQ(resolved.state(), v1::ESCALATION_STATE_RESOLVED);
  EXPECT_EQ(resolved.version(), a.version() + 1);
  EXPECT_EQ(resolved.close_reason(), "fixed the invoice");
  EXPECT_EQ(FromProtoTime(resolved.timeline().resolve_time()), now);
  EXPECT_FALSE(resolved.timeline().has_cancel_time());
  EXPECT_FALSE(resolved.timeline().has_expire_time());
  EXPECT_EQ(resolved.helper(), "soren");
  EXPECT_EQ(resolved.thread_id(), "thr-7k2m9q4xwd");

  // Cancelling while offered drops the offer.
  v1::Escalation offered_e =
      WithOffer(queued_, "mei", "off-9", offered, offered + absl::Seconds(15));
  v1::Escalation cancelled = Closed(offered_e, v1::ESCALATION_STATE_CANCELLED, "hung up", now);
  EXPECT_EQ(cancelled.state(), v1::ESCALATION_STATE_CANCELLED);
  EXPECT_EQ(cancelled.version(), offered_e.version() + 1);
  EXPECT_FALSE(cancelled.has_offer());
  EXPECT_EQ(cancelled.close_reason(), "hung up");
  EXPECT_EQ(FromProtoTime(cancelled.timeline().cancel_time()), now);
  EXPECT_FALSE(cancelled.timeline().has_resolve_time());
  EXPECT_FALSE(cancelled.timeline().has_expire_time());

  v1::Escalation expired = Closed(queued_, v1::ESCALATION_STATE_EXPIRED, "", now);
  EXPECT_EQ(expired.state(), v1::ESCALATION_STATE_EXPIRED);
  EXPECT_EQ(expired.version(), 2);
  EXPECT_EQ(FromProtoTime(expired.timeline().expire_time()), now);
  EXPECT_FALSE(expired.timeline().has_resolve_time());
  EXPECT_FALSE(expired.timeline().has_cancel_time());
  EXPECT_TRUE(IsFinal(expired.state()));
}

// ---------------------------------------------------------------------------------------------
// Events and system messages

TEST_F(TransitionTest, Events) {
  const absl::Time now = clock_.Now();
  v1::Escalation o = WithOffer(queued_, "soren", "off-1", now, now + absl::Seconds(15));

  v1::Event updated = EscalationUpdatedEvent(o, now);
  EXPECT_EQ(FromProtoTime(updated.time()), now);
  ASSERT_TRUE(updated.has_escalation_updated());
  EXPECT_TRUE(MessageDifferencer::Equals(updated.escalation_updated().escalation(), o));
  EXPECT_TRUE(updated.cursor().empty());

  v1::Event made = OfferMadeEvent(o, "soren", now);
  ASSERT_TRUE(made.has_offer());
  EXPECT_TRUE(MessageDifferencer::Equals(made.offer().offer(), o.offer()));
  EXPECT_TRUE(MessageDifferencer::Equals(made.offer().escalation(), o));

  v1::Event closed = OfferClosedEvent(o.offer(), "timeout", now + absl::Seconds(15));
  ASSERT_TRUE(closed.has_offer_closed());
  EXPECT_EQ(closed.offer_closed().offer_id(), "off-1");
  EXPECT_EQ(closed.offer_closed().escalation_id(), "esc-7k2m9q4xwd");
  EXPECT_EQ(closed.offer_closed().reason(), "timeout");
  EXPECT_EQ(FromProtoTime(closed.time()), now + absl::Seconds(15));
}

TEST(SystemMessageTest, Fields) {
  v1::Message m = SystemMessage("thr-7k2m9q4xwd", 4, "soren accepted", kStart);
  EXPECT_EQ(m.thread_id(), "thr-7k2m9q4xwd");
  EXPECT_EQ(m.seq(), 4);
  EXPECT_EQ(m.sender(), "backline");
  EXPECT_EQ(m.kind(), v1::MESSAGE_KIND_SYSTEM);
  EXPECT_EQ(m.text(), "soren accepted");
  EXPECT_EQ(FromProtoTime(m.create_time()), kStart);
}

}  // namespace
}  // namespace backline::router
