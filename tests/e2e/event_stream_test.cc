// The per-user event stream: resume from a cursor gets exactly what was missed, in order; a
// cursor whose events retention dropped gets an explicit gap; every desktop of a user gets every
// event; events cross from one chat instance to another through Redis.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backline/v1/messaging.grpc.pb.h"
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

// Posts `text` as `sender` from desktop session `session` (empty: none named).
absl::StatusOr<v1::Message> PostFrom(Client& sender, const std::string& thread,
                                     const std::string& text, const std::string& session) {
  v1::PostMessageRequest r;
  r.set_thread_id(thread);
  r.set_text(text);
  r.set_session_id(session);
  return sender.PostMessage(r);
}

// The texts of the messages on `stream` until `until` arrives (included); fails on a gap.
std::vector<std::string> TextsUntil(EventStream& stream, const std::string& until) {
  std::vector<std::string> texts;
  while (texts.empty() || texts.back() != until) {
    auto ev = WaitForEvent(
        stream, [](const v1::Event& e) { return e.has_message_posted() || e.has_gap(); });
    if (!ev.has_value()) {
      ADD_FAILURE() << "no \"" << until << "\" after " << texts.size() << " messages";
      break;
    }
    EXPECT_FALSE(ev->has_gap());
    if (ev->has_message_posted()) texts.push_back(ev->message_posted().message().text());
  }
  return texts;
}

TEST_F(EventStreamTest, APostIsNotSentBackToTheSessionThatNamesItselfOnIt) {
  // soren's desk-1 and desk-3 on one chat instance, desk-2 on another.
  TestStack a(SharedRedis()), b(SharedRedis(), Stack::kChat | Stack::kPresence);
  const std::string thread = OpenThread(a);
  auto anna = a.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = a.ClientFor("soren", v1::ROLE_SENIOR);
  auto soren_b = b.ClientFor("soren", v1::ROLE_SENIOR);
  auto desk1 = soren->Subscribe("", "desk-1");
  auto desk2 = soren_b->Subscribe("", "desk-2");
  auto desk3 = soren->Subscribe("", "desk-3");
  auto anna_desk = anna->Subscribe("", "desk-1");  // the same session name, another person
  std::string before;
  for (EventStream* s : {desk1.get(), desk2.get(), desk3.get(), anna_desk.get()}) {
    auto up = WaitForEvent(*s, [](const v1::Event& e) { return e.has_caught_up(); });
    ASSERT_TRUE(up.has_value());
    if (s == desk1.get()) before = up->caught_up().cursor();
  }

  auto own = PostFrom(*soren, thread, "fra desk-1", "desk-1");
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->text(), "fra desk-1");                         // the reply carries it
  ASSERT_TRUE(PostFrom(*anna, thread, "svar", "desk-1").ok());  // anna's desk-1 is hers alone
  ASSERT_TRUE(PostFrom(*soren, thread, "uden session", "").ok());

  // desk-1 goes straight to anna's answer, without a gap; everyone else gets all three.
  EXPECT_EQ(TextsUntil(*desk1, "uden session"), (std::vector<std::string>{"svar", "uden session"}));
  for (EventStream* s : {desk2.get(), desk3.get()}) {
    EXPECT_EQ(TextsUntil(*s, "uden session"),
              (std::vector<std::string>{"fra desk-1", "svar", "uden session"}));
  }
  EXPECT_EQ(TextsUntil(*anna_desk, "uden session"),
            (std::vector<std::string>{"fra desk-1", "uden session"}));
  // The post is in soren's log all the same: desk-1 opened again from before it reads it.
  auto again = soren->Subscribe(before, "desk-1");
  EXPECT_EQ(TextsUntil(*again, "uden session"),
            (std::vector<std::string>{"fra desk-1", "svar", "uden session"}));
}

TEST_F(EventStreamTest, BadSessionOnAPostIsInvalidArgumentAndStoresNothing) {
  TestStack stack(SharedRedis());
  const std::string thread = OpenThread(stack);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  auto before = soren->GetThread(thread);
  ASSERT_TRUE(before.ok());
  auto posted = PostFrom(*soren, thread, "x", "desk 1");
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(posted.status().message().find("session_id"), std::string::npos) << posted.status();
  auto t = soren->GetThread(thread);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->last_seq(), before->last_seq());
}

TEST_F(EventStreamTest, OwnPostsRacingOthersNeitherLoseNorRepeatAnything) {
  // Two people post at once, each from two threads; one of soren's sessions names itself on
  // his posts. That session must get each of anna's posts once, in order, however its skips
  // interleave with her deliveries (and its own only when it was behind); his other session and
  // anna get everything once.
  TestStack stack(SharedRedis());
  const std::string thread = OpenThread(stack);
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  auto own = soren->Subscribe("", "own");
  auto other = soren->Subscribe("", "other");
  auto hers = anna->Subscribe("");
  for (EventStream* s : {own.get(), other.get(), hers.get()}) {
    ASSERT_TRUE(WaitForEvent(*s, [](const v1::Event& e) { return e.has_caught_up(); }));
  }
  constexpr int kEach = 100;
  std::vector<std::thread> posters;
  for (int w = 0; w < 4; ++w) {
    posters.emplace_back([&, w] {
      Client& c = w < 2 ? *soren : *anna;
      for (int i = 0; i < kEach; ++i) {
        const std::string text = absl::StrCat(w < 2 ? "s" : "a", w, ".", i);
        ASSERT_TRUE(PostFrom(c, thread, text, w < 2 ? "own" : "").ok());
      }
    });
  }
  for (std::thread& t : posters) t.join();
  ASSERT_TRUE(PostFrom(*anna, thread, "end", "").ok());

  auto count = [](const std::vector<std::string>& texts) {
    std::map<std::string, int> seen;
    for (const std::string& t : texts) seen[t]++;
    return seen;
  };
  // Per poster thread, posts arrive in the order they were made.
  auto in_order = [](const std::vector<std::string>& texts, int w) {
    int next = 0;
    for (const std::string& t : texts) {
      if (absl::StartsWith(t, absl::StrCat(w < 2 ? "s" : "a", w, "."))) {
        if (t != absl::StrCat(w < 2 ? "s" : "a", w, ".", next)) return false;
        ++next;
      }
    }
    return true;
  };
  const std::vector<std::string> own_texts = TextsUntil(*own, "end");
  int own_back = 0;
  for (const auto& [text, n] : count(own_texts)) {
    EXPECT_EQ(n, 1) << text << " came " << n << " times";
    if (text[0] == 's') ++own_back;
  }
  EXPECT_EQ(own_texts.size() - own_back, 2u * kEach + 1) << "each of anna's posts, once";
  // It kept up (the 401 events fit in what a stream holds), so none of its own came back.
  EXPECT_EQ(own_back, 0);
  for (int w = 0; w < 4; ++w) EXPECT_TRUE(in_order(own_texts, w)) << w;
  for (EventStream* s : {other.get(), hers.get()}) {
    const std::vector<std::string> texts = TextsUntil(*s, "end");
    EXPECT_EQ(texts.size(), 4u * kEach + 1);
    for (const auto& [text, n] : count(texts)) EXPECT_EQ(n, 1) << text;
    for (int w = 0; w < 4; ++w) EXPECT_TRUE(in_order(texts, w)) << w;
  }
}

// Collects the message texts of `stream` into `texts` and the last cursor into `cursor`, until
// `n` texts were received in all or `stop_after` of them in this call.
void ReadMessages(EventStream& stream, std::vector<std::string>* texts, std::string* cursor,
                  size_t n, size_t stop_after) {
  size_t got = 0;
  while (texts->size() < n && got < stop_after) {
    auto ev = stream.Next(absl::Seconds(10));
    ASSERT_TRUE(ev.ok()) << ev.status();
    ASSERT_TRUE(ev->has_value()) << "no event for 10 s after " << texts->size();
    const v1::Event& e = **ev;
    ASSERT_FALSE(e.has_gap()) << "unexpected gap";
    if (!e.cursor().empty()) *cursor = e.cursor();
    if (e.has_message_posted()) {
      texts->push_back(e.message_posted().message().text());
      ++got;
    }
  }
}

TEST_F(EventStreamTest, DisconnectMidBurstAndResumeLosesAndRepeatsNothing) {
  TestStack stack(SharedRedis());
  const std::string thread = OpenThread(stack);
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  std::string cursor;
  {
    auto s = soren->Subscribe("0");
    Drain(*s, &cursor);
  }
  constexpr int kMessages = 1000;
  std::thread poster([&] {
    for (int i = 0; i < kMessages; ++i) ASSERT_TRUE(anna->Post(thread, absl::StrCat("m", i)).ok());
  });
  std::vector<std::string> texts;
  {
    auto s = soren->Subscribe(cursor);
    ReadMessages(*s, &texts, &cursor, kMessages, 300);  // then the connection is cut
  }
  {
    auto s = soren->Subscribe(cursor);
    ReadMessages(*s, &texts, &cursor, kMessages, 400);
  }
  auto s = soren->Subscribe(cursor);
  ReadMessages(*s, &texts, &cursor, kMessages, kMessages);
  poster.join();
  ASSERT_EQ(texts.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(texts[i], absl::StrCat("m", i)) << i;
}

TEST_F(EventStreamTest, ASlowReaderIsCutAndResumes) {
  ServerConfig config = TestConfig(SharedRedis());
  config.hub.stall_timeout = absl::Milliseconds(500);
  TestStack stack(config, Stack::kAll);
  const std::string thread = OpenThread(stack);
  auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = stack.ClientFor("soren", v1::ROLE_SENIOR);
  std::string cursor;
  {
    auto s = soren->Subscribe("0");
    Drain(*s, &cursor);
  }
  // A reader that takes nothing while 8 MB of messages arrive: flow control fills, the server's
  // writes stall, and the stream is cut instead of buffering without bound.
  auto channel = grpc::CreateChannel(stack.target(), grpc::InsecureChannelCredentials());
  auto stub = v1::MessagingService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + stack.Token("soren", v1::ROLE_SENIOR));
  v1::SubscribeRequest req;
  req.set_after_cursor(cursor);
  auto reader = stub->Subscribe(&ctx, req);
  const std::string big(16000, 'x');
  constexpr int kMessages = 500;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(anna->Post(thread, absl::StrCat(i, ":", big)).ok());
  }
  absl::SleepFor(absl::Seconds(2));
  // Now it reads what reached it, then learns it was cut.
  std::vector<std::string> texts;
  v1::Event ev;
  while (reader->Read(&ev)) {
    if (!ev.cursor().empty()) cursor = ev.cursor();
    if (ev.has_message_posted()) texts.push_back(ev.message_posted().message().text());
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_LT(texts.size(), static_cast<size_t>(kMessages));
  // It resumes from its cursor and gets the rest, exactly.
  auto s = soren->Subscribe(cursor);
  ReadMessages(*s, &texts, &cursor, kMessages, kMessages);
  ASSERT_EQ(texts.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(texts[i].substr(0, texts[i].find(':')), absl::StrCat(i)) << i;
  }
}

TEST_F(EventStreamTest, IdleStreamsCauseNoRedisTraffic) {
  TestStack stack(SharedRedis());
  OpenThread(stack);
  auto commands = [] {
    std::string info = SharedRedis().Command({"INFO", "stats"}).str;
    const size_t at = info.find("total_commands_processed:");
    return std::stoll(info.substr(at + 25));
  };
  auto measure = [&] {
    const long long before = commands();
    absl::SleepFor(absl::Seconds(2));
    return commands() - before - 1;  // the INFO itself
  };
  const long long without = measure();
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(
        stack.ClientFor(i % 2 ? "anna" : "soren", i % 2 ? v1::ROLE_AGENT : v1::ROLE_SENIOR));
    streams.push_back(clients.back()->Subscribe(""));
  }
  for (auto& s : streams) {
    ASSERT_TRUE(WaitForEvent(*s, [](const v1::Event& e) { return e.has_caught_up(); }));
  }
  const long long with = measure();
  // Background work (deadline and liveness loops, lease renewal) is the same either way; the
  // hundred open streams add nothing.
  EXPECT_LE(with, without + 10) << "without streams: " << without << ", with: " << with;
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
