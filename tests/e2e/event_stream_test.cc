// The per-user event stream: resume from a cursor gets exactly what was missed, in order; a
// cursor whose events retention dropped gets an explicit gap; every desktop of a user gets every
// event; events cross from one chat instance to another through Redis.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

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
