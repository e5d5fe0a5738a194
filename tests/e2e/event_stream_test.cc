// The per-user event stream: resume from a cursor gets exactly what was missed, in order; a
// cursor whose events retention dropped gets an explicit gap; every desktop of a user gets every
// event; events cross from one chat instance to another through Redis.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }

  // Opens an escalation thread between anna and soren on `stack`; returns its id.
  std::string OpenThread(TestStack& stack) {
    stack.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                       MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"})});
    auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
    auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
    EXPECT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
    v1::CreateEscalationRequest r;
    r.set_question("q");
    r.set_language("da");
    r.add_skills()->set_skill("billing");
    auto e = anna->Escalate(r);
    EXPECT_TRUE(e.ok());
    auto acc = soren->AcceptOffer(e->id());
    EXPECT_TRUE(acc.ok());
    return acc->thread_id();
  }

  // Reads events until caught up; returns the message texts seen and the last cursor.
  static std::vector<std::string> Drain(EventStream& s, std::string* last_cursor,
                                        bool* gap = nullptr) {
    std::vector<std::string> texts;
    while (true) {
      auto ev = s.Next(absl::Seconds(5));
      if (!ev.ok() || !ev->has_value()) break;
      const v1::Event& e = **ev;
      if (e.has_caught_up()) break;
      if (e.has_gap() && gap != nullptr) *gap = true;
      if (!e.cursor().empty()) *last_cursor = e.cursor();
      if (e.has_message_posted()) texts.push_back(e.message_posted().message().text());
    }
    return texts;
  }
};

TEST_F(EventStreamTest, ResumeFromCursorGetsExactlyWhatWasMissedInOrder) {
  TestStack stack(SharedRedis());
  const std::string thread = OpenThread(stack);
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);

  std::string cursor;
  {
    auto s = soren->Subscribe("0");
    Drain(*s, &cursor);
  }
  ASSERT_FALSE(cursor.empty());
  // While soren is disconnected, 300 messages are posted.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(anna->Post(thread, absl::StrCat("m", i)).ok());
  auto s = soren->Subscribe(cursor);
  std::string last;
  bool gap = false;
  std::vector<std::string> texts = Drain(*s, &last, &gap);
  EXPECT_FALSE(gap);
  ASSERT_EQ(texts.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(texts[i], absl::StrCat("m", i));
  // Live events continue after the backlog, without duplicates.
  ASSERT_TRUE(anna->Post(thread, "live").ok());
  auto live = WaitForEvent(*s, [](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->message_posted().message().text(), "live");
}

TEST_F(EventStreamTest, DroppedByRetentionIsReportedAsAGap) {
  ServerConfig config = TestConfig(SharedRedis());
  config.events.max_len = 10;  // trimmed in whole stream nodes (about 100 entries)
  TestStack stack(config, Stack::kAll);
  const std::string thread = OpenThread(stack);
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  std::string first_cursor;
  {
    auto s = soren->Subscribe("0");
    Drain(*s, &first_cursor);
  }
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(anna->Post(thread, absl::StrCat("m", i)).ok());
  auto s = soren->Subscribe(first_cursor);
  auto first = s->Next(absl::Seconds(5));
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE((*first)->has_gap()) << "the stream did not report the dropped events";
  EXPECT_EQ((*first)->gap().after_cursor(), first_cursor);
  std::string last;
  std::vector<std::string> texts = Drain(*s, &last);
  ASSERT_FALSE(texts.empty());
  EXPECT_LT(texts.size(), 400u);
  EXPECT_EQ(texts.back(), "m399");  // the newest are kept, in order
}

TEST_F(EventStreamTest, EveryDesktopOfAUserGetsEveryEventAcrossInstances) {
  // Two chat instances; the sender uses one, the reader's desktops are on both.
  TestStack a(SharedRedis()), b(SharedRedis(), Stack::kChat | Stack::kPresence);
  const std::string thread = OpenThread(a);
  auto anna = a.ClientFor("anna", v1::ROLE_AGENT);
  auto desk1 = a.ClientFor("soren", v1::ROLE_SENIOR);
  auto desk2 = b.ClientFor("soren", v1::ROLE_SENIOR);
  auto s1 = desk1->Subscribe("");
  auto s2 = desk2->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*s1, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(WaitForEvent(*s2, [](const v1::Event& e) { return e.has_caught_up(); }));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(anna->Post(thread, absl::StrCat("m", i)).ok());
  for (EventStream* s : {s1.get(), s2.get()}) {
    for (int i = 0; i < 50; ++i) {
      auto ev = WaitForEvent(*s, [](const v1::Event& e) { return e.has_message_posted(); });
      ASSERT_TRUE(ev.has_value()) << "message " << i << " missing";
      EXPECT_EQ(ev->message_posted().message().text(), absl::StrCat("m", i));
    }
  }
}

TEST_F(EventStreamTest, BadCursorIsInvalidArgument) {
  TestStack stack(SharedRedis());
  stack.ApplyRoster({MakePerson("anna", v1::ROLE_AGENT)});
  auto s = stack.ClientFor("anna", v1::ROLE_AGENT)->Subscribe("not-a-cursor");
  auto ev = s->Next(absl::Seconds(5));
  ASSERT_FALSE(ev.ok());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace backline::testing
