// The client library's resilience against a real backline-server process that is killed with
// SIGKILL, frozen with SIGSTOP and started again on the same port: the EventFeed reconnects by
// itself, reports its states in order, delivers every event exactly once (in callback and in
// pull mode), keeps the person present, and stops promptly whatever it is doing; a feed away
// longer than retention gets one gap and carries on; posts issued while the server is down, or
// in flight when it dies, land exactly once.
//
// A second, in-process instance on the same Redis plays everyone else: it keeps serving while
// the server process is down, so events happen during the outage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "services/store/event_log.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

// Bound of every wait in these tests; none is expected to come close.
constexpr absl::Duration kWait = absl::Seconds(30);

// What a feed delivered, in order.
using Items = std::vector<FeedItem>;

int CountMessages(const Items& items) {
  int n = 0;
  for (const FeedItem& i : items) n += i.is_event() && i.event.has_message_posted();
  return n;
}

int CountStates(const Items& items, FeedState state) {
  int n = 0;
  for (const FeedItem& i : items) n += i.is_state() && i.state.state == state;
  return n;
}

// The state changes as letters: i CONNECTING, c CONNECTED, r RECONNECTING, s STOPPED.
std::string StateLetters(const Items& items) {
  static const std::map<FeedState, char> kLetter = {{FeedState::kConnecting, 'i'},
                                                    {FeedState::kConnected, 'c'},
                                                    {FeedState::kReconnecting, 'r'},
                                                    {FeedState::kStopped, 's'}};
  std::string out;
  for (const FeedItem& i : items) {
    if (i.is_state()) out.push_back(kLetter.at(i.state.state));
  }
  return out;
}

// The letters of one outage and its recovery: "ic", one or more "r", then "cs".
bool IsOneRecovery(const std::string& states) {
  return states.size() >= 5 && absl::StartsWith(states, "ic") && absl::EndsWith(states, "cs") &&
         states.find_first_not_of('r', 2) == states.size() - 2;
}

// Every message m<0>..m<n-1> exactly once and in order; stored events' cursors strictly grow;
// no gap; each run of RECONNECTING counts its attempts 1, 2, 3... with the error that caused it.
void ExpectExactlyOnce(const Items& items, int n) {
  std::vector<std::string> texts;
  std::string last_cursor;
  int attempt = 0;
  for (const FeedItem& i : items) {
    if (i.is_state()) {
      if (i.state.state == FeedState::kReconnecting) {
        EXPECT_EQ(i.state.attempt, ++attempt);
        EXPECT_FALSE(i.state.error.ok());
      } else {
        attempt = 0;
      }
      continue;
    }
    EXPECT_FALSE(i.event.has_gap());
    EXPECT_FALSE(i.event.has_caught_up()) << "caught_up is reported as CONNECTED";
    if (!i.event.cursor().empty()) {
      if (!last_cursor.empty()) {
        EXPECT_GT(store::CompareCursors(i.event.cursor(), last_cursor), 0)
            << i.event.cursor() << " after " << last_cursor;
      }
      last_cursor = i.event.cursor();
    }
    if (i.event.has_message_posted()) texts.push_back(i.event.message_posted().message().text());
  }
  ASSERT_EQ(texts.size(), static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) ASSERT_EQ(texts[k], absl::StrCat("m", k)) << "message " << k;
}

// Records what a callback-mode feed delivers, and on which thread.
class Recorder {
 public:
  FeedOptions Options() {
    FeedOptions o;
    o.on_event = [this](const v1::Event& e) {
      FeedItem item;
      item.event = e;
      Add(std::move(item));
    };
    o.on_state = [this](const FeedStateChange& s) {
      FeedItem item;
      item.kind = FeedItem::Kind::kState;
      item.state = s;
      Add(std::move(item));
    };
    return o;
  }

  // Waits until `done` holds for what was delivered.
  bool WaitFor(const std::function<bool(const Items&)>& done, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(items_); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }
  Items Snapshot() {
    absl::MutexLock lock(&mu_);
    return items_;
  }
  // Callbacks came from one thread, never from the test's own.
  void ExpectOneCallbackThread() {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(threads_.size(), 1u);
    EXPECT_EQ(threads_.count(std::this_thread::get_id()), 0u);
  }

 private:
  void Add(FeedItem item) {
    absl::MutexLock lock(&mu_);
    items_.push_back(std::move(item));
    threads_.insert(std::this_thread::get_id());
  }

  absl::Mutex mu_;
  Items items_ ABSL_GUARDED_BY(mu_);
  std::set<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

// Takes items from a pull-mode feed until `done` holds for all taken so far.
bool PullUntil(EventFeed& feed, Items* items, const std::function<bool(const Items&)>& done,
               absl::Duration timeout = kWait) {
  const absl::Time end = absl::Now() + timeout;
  while (!done(*items)) {
    if (absl::Now() >= end) return false;
    auto next = feed.Next(end - absl::Now());
    if (!next.ok()) return false;
    if (next->has_value()) items->push_back(std::move(**next));
  }
  return true;
}

class ClientFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    // A desktop session is dropped after 1 s without a sign of life.
    server_ = std::make_unique<ServerProcess>(BACKLINE_SERVER_PATH, dir_, SharedRedis().port(),
                                              R"({"presence": {"liveness_timeout_seconds": 1}})");
    ServerConfig config = TestConfig(SharedRedis());
    config.presence.liveness_timeout = absl::Seconds(1);
    other_ = std::make_unique<TestStack>(config, Stack::kAll);
    other_->ApplyRoster({MakePerson("anna", v1::ROLE_AGENT),
                         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"})});
    anna_ = other_->ClientFor("anna", v1::ROLE_AGENT);
    soren_elsewhere_ = other_->ClientFor("soren", v1::ROLE_SENIOR);
    auto thread = anna_->OpenDirectThread("soren");
    ASSERT_TRUE(thread.ok()) << thread.status();
    thread_ = thread->id();
  }
  void TearDown() override { server_.reset(); }

  // Options of a client of the server process: short backoffs, so that the test is quick.
  ClientOptions OptionsFor(const std::string& person, v1::Role role) const {
    ClientOptions o;
    o.target = server_->target();
    o.token = other_->Token(person, role);
    o.initial_backoff = absl::Milliseconds(100);
    o.max_backoff = absl::Seconds(1);
    return o;
  }

  // Anna posts m<from>..m<to - 1> through the other instance.
  void Post(int from, int to) {
    for (int k = from; k < to; ++k) {
      auto m = anna_->Post(thread_, absl::StrCat("m", k));
      ASSERT_TRUE(m.ok()) << k << ": " << m.status();
    }
  }

  v1::PresenceStatus SorenStatus() {
    auto p = soren_elsewhere_->GetPresence();
    return p.ok() ? p->status() : v1::PRESENCE_STATUS_UNSPECIFIED;
  }

  TempDir tmp_{"backline-feed"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TestStack> other_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_elsewhere_;
  std::string thread_;
};

TEST_F(ClientFeedTest, CallbackFeedSurvivesAKilledServerAndDeliversEveryEventOnce) {
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  Client soren(OptionsFor("soren", v1::ROLE_SENIOR));
  Recorder recorder;
  auto feed = soren.OpenFeed(recorder.Options());
  ASSERT_TRUE(
      recorder.WaitFor([](const Items& i) { return CountStates(i, FeedState::kConnected); }));
  ASSERT_TRUE(soren_elsewhere_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());

  // A burst, with the server killed in the middle of it.
  std::thread poster([&] { Post(0, 100); });
  ASSERT_TRUE(recorder.WaitFor([](const Items& i) { return CountMessages(i) >= 30; }));
  server_->Kill();
  poster.join();
  ASSERT_TRUE(
      recorder.WaitFor([](const Items& i) { return CountStates(i, FeedState::kReconnecting); }));

  // While it is down, more happens; and once its lease lapses Søren leaves routing.
  Post(100, 200);
  EXPECT_TRUE(Eventually([&] { return SorenStatus() == v1::PRESENCE_STATUS_OFFLINE; }))
      << "the killed server's session should have lapsed";

  ASSERT_NO_FATAL_FAILURE(server_->Start());
  Post(200, 300);
  ASSERT_TRUE(recorder.WaitFor([](const Items& i) { return CountMessages(i) >= 300; }))
      << "messages delivered: " << CountMessages(recorder.Snapshot());
  // The resumed stream says CONNECTED once it has caught up, which can be after the last of
  // those messages when they were still being written while it replayed the missed ones.
  ASSERT_TRUE(recorder.WaitFor([](const Items& i) {
    return CountStates(i, FeedState::kConnected) == 2;
  })) << StateLetters(recorder.Snapshot());
  // The reconnected stream is his desktop session again: back with the status he had chosen,
  // without setting it.
  EXPECT_TRUE(Eventually([&] { return SorenStatus() == v1::PRESENCE_STATUS_AVAILABLE; }));

  feed->Stop();
  EXPECT_EQ(feed->state(), FeedState::kStopped);
  const Items items = recorder.Snapshot();
  ExpectExactlyOnce(items, 300);
  const std::string states = StateLetters(items);
  EXPECT_TRUE(IsOneRecovery(states)) << states;
  for (const FeedItem& i : items) {
    if (i.is_state() && i.state.state == FeedState::kReconnecting) {
      EXPECT_EQ(i.state.error.code(), absl::StatusCode::kUnavailable) << i.state.error;
    }
  }
  ASSERT_TRUE(items.back().is_state());
  EXPECT_TRUE(items.back().state.error.ok()) << items.back().state.error;
  // The last event handed over is where a restarted application resumes.
  std::string last_cursor;
  for (const FeedItem& i : items) {
    if (i.is_event() && !i.event.cursor().empty()) last_cursor = i.event.cursor();
  }
  EXPECT_EQ(feed->cursor(), last_cursor);
  recorder.ExpectOneCallbackThread();
}

TEST_F(ClientFeedTest, PullFeedNoticesAFrozenServerByKeepaliveAndResumes) {
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ClientOptions options = OptionsFor("soren", v1::ROLE_SENIOR);
  options.keepalive_time = absl::Seconds(1);
  options.keepalive_timeout = absl::Seconds(1);
  Client soren(options);
  auto feed = soren.OpenFeed(FeedOptions());
  Items items;
  ASSERT_TRUE(PullUntil(*feed, &items,
                        [](const Items& i) { return CountStates(i, FeedState::kConnected) == 1; }));
  Post(0, 50);
  ASSERT_TRUE(PullUntil(*feed, &items, [](const Items& i) { return CountMessages(i) == 50; }));

  // Quiet for a while (the client sends nothing on the stream, yet must keep pinging), then the
  // server freezes: the connection stays open, only keepalive can tell it is dead.
  absl::SleepFor(absl::Seconds(4));
  server_->Freeze();
  ASSERT_TRUE(PullUntil(*feed, &items, [](const Items& i) {
    return CountStates(i, FeedState::kReconnecting) >= 1;
  })) << "a frozen server went unnoticed";
  Post(50, 100);
  server_->Kill();
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  Post(100, 150);
  ASSERT_TRUE(PullUntil(*feed, &items, [](const Items& i) { return CountMessages(i) == 150; }))
      << "messages delivered: " << CountMessages(items);
  ASSERT_TRUE(PullUntil(*feed, &items,
                        [](const Items& i) { return CountStates(i, FeedState::kConnected) == 2; }));

  feed->Stop();
  auto stopped = feed->Next(kWait);
  ASSERT_TRUE(stopped.ok() && stopped->has_value()) << stopped.status();
  ASSERT_TRUE((*stopped)->is_state());
  EXPECT_EQ((*stopped)->state.state, FeedState::kStopped);
  items.push_back(**stopped);
  EXPECT_EQ(feed->Next(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);

  ExpectExactlyOnce(items, 150);
  const std::string states = StateLetters(items);
  EXPECT_TRUE(IsOneRecovery(states)) << states;
}

TEST_F(ClientFeedTest, StopReturnsPromptlyWhileReconnectingOrWaitingOnAFrozenServer) {
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  // Waiting out a long backoff: Stop() does not.
  ClientOptions slow = OptionsFor("soren", v1::ROLE_SENIOR);
  slow.initial_backoff = absl::Seconds(20);
  slow.max_backoff = absl::Seconds(20);
  Client soren_slow(slow);
  Recorder recorder;
  auto feed = soren_slow.OpenFeed(recorder.Options());
  ASSERT_TRUE(
      recorder.WaitFor([](const Items& i) { return CountStates(i, FeedState::kConnected); }));
  server_->Kill();
  ASSERT_TRUE(
      recorder.WaitFor([](const Items& i) { return CountStates(i, FeedState::kReconnecting); }));
  absl::Time next_attempt;
  for (const FeedItem& i : recorder.Snapshot()) {
    if (i.is_state() && i.state.state == FeedState::kReconnecting)
      next_attempt = i.state.next_attempt;
  }
  feed->Stop();
  EXPECT_LT(absl::Now(), next_attempt) << "Stop() waited for the backoff";
  const Items items = recorder.Snapshot();
  EXPECT_EQ(StateLetters(items), "icrs");
  EXPECT_TRUE(items.back().state.error.ok());
  feed.reset();

  // Stuck on a frozen server, with keepalive far off: Stop() cancels the stream.
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ClientOptions patient = OptionsFor("soren", v1::ROLE_SENIOR);
  patient.keepalive_time = absl::Minutes(5);
  Client soren_patient(patient);
  auto pulled = soren_patient.OpenFeed(FeedOptions());
  Items pulled_items;
  ASSERT_TRUE(PullUntil(*pulled, &pulled_items,
                        [](const Items& i) { return CountStates(i, FeedState::kConnected) == 1; }));
  server_->Freeze();
  const absl::Time stop_started = absl::Now();
  pulled->Stop();
  EXPECT_LT(absl::Now() - stop_started, patient.keepalive_time) << "Stop() waited for keepalive";
  auto last = pulled->Next(kWait);
  ASSERT_TRUE(last.ok() && last->has_value()) << last.status();
  EXPECT_EQ((*last)->state.state, FeedState::kStopped);
  EXPECT_EQ(pulled->Next(absl::ZeroDuration()).status().code(), absl::StatusCode::kCancelled);
}

TEST_F(ClientFeedTest, StopFromTheFeedsOwnCallback) {
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  Client soren(OptionsFor("soren", v1::ROLE_SENIOR));
  absl::Notification opened;
  std::atomic<EventFeed*> self{nullptr};
  Recorder recorder;
  FeedOptions options = recorder.Options();
  auto record_state = options.on_state;
  options.on_state = [&](const FeedStateChange& s) {
    record_state(s);
    if (s.state != FeedState::kConnected) return;
    ASSERT_TRUE(opened.WaitForNotificationWithTimeout(kWait));
    self.load()->Stop();  // returns at once; STOPPED follows this callback
  };
  auto feed = soren.OpenFeed(options);
  self.store(feed.get());
  opened.Notify();
  ASSERT_TRUE(recorder.WaitFor([](const Items& i) { return CountStates(i, FeedState::kStopped); }));
  feed.reset();  // joins the threads
  EXPECT_EQ(StateLetters(recorder.Snapshot()), "ics");
}

TEST_F(ClientFeedTest, AFeedAwayLongerThanRetentionGetsOneGapThenWhatIsRetained) {
  ServerConfig config = TestConfig(SharedRedis());
  config.events.max_len = 10;  // trimmed in whole stream nodes (about 100 entries)
  TestStack trimming(config, Stack::kAll);
  auto anna = trimming.ClientFor("anna", v1::ROLE_AGENT);
  auto soren = trimming.ClientFor("soren", v1::ROLE_SENIOR);
  std::string saved_cursor;
  {
    auto feed = soren->OpenFeed(FeedOptions());
    Items items;
    ASSERT_TRUE(PullUntil(
        *feed, &items, [](const Items& i) { return CountStates(i, FeedState::kConnected) == 1; }));
    ASSERT_TRUE(anna->Post(thread_, "seen").ok());
    ASSERT_TRUE(PullUntil(*feed, &items, [](const Items& i) { return CountMessages(i) == 1; }));
    saved_cursor = feed->cursor();
  }
  // Away while 400 messages come and most of them are trimmed.
  for (int k = 0; k < 400; ++k) ASSERT_TRUE(anna->Post(thread_, absl::StrCat("m", k)).ok());

  FeedOptions resume;
  resume.after_cursor = saved_cursor;
  auto feed = soren->OpenFeed(resume);
  Items items;
  ASSERT_TRUE(PullUntil(*feed, &items,
                        [](const Items& i) { return CountStates(i, FeedState::kConnected) == 1; }));
  ASSERT_TRUE(anna->Post(thread_, "live").ok());
  ASSERT_TRUE(PullUntil(*feed, &items, [](const Items& i) {
    return !i.back().is_state() && i.back().event.has_message_posted() &&
           i.back().event.message_posted().message().text() == "live";
  }));
  // CONNECTING, the gap (saying where from), the newest retained messages in order, CONNECTED,
  // then live events as usual.
  ASSERT_GE(items.size(), 4u);
  EXPECT_TRUE(items[0].is_state());
  ASSERT_TRUE(items[1].is_event() && items[1].event.has_gap());
  EXPECT_EQ(items[1].event.gap().after_cursor(), saved_cursor);
  std::vector<std::string> texts;
  int gaps = 0;
  for (const FeedItem& i : items) {
    if (i.is_event() && i.event.has_gap()) ++gaps;
    if (i.is_event() && i.event.has_message_posted()) {
      texts.push_back(i.event.message_posted().message().text());
    }
  }
  EXPECT_EQ(gaps, 1);
  ASSERT_GE(texts.size(), 2u);
  EXPECT_LT(texts.size(), 401u);
  EXPECT_EQ(texts[texts.size() - 2], "m399");
  const int first = std::stoi(texts[0].substr(1));
  for (size_t k = 0; k + 1 < texts.size(); ++k) EXPECT_EQ(texts[k], absl::StrCat("m", first + k));
  EXPECT_EQ(StateLetters(items), "ic");
}

TEST_F(ClientFeedTest, PostsLandExactlyOnceAcrossAServerRestart) {
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ClientOptions options = OptionsFor("anna", v1::ROLE_AGENT);
  options.deadline = absl::Seconds(20);
  options.max_backoff = absl::Milliseconds(500);
  Client anna(options);

  // A burst with the server killed in the middle of it and started again at once: posts in
  // flight at the kill (perhaps stored, perhaps not) and posts sent before it is back are all
  // sent again with their client_msg_id.
  std::atomic<int> done{0};
  std::vector<absl::Status> results(200);
  std::thread poster([&] {
    for (int k = 0; k < 200; ++k) {
      results[k] = anna.Post(thread_, absl::StrCat("m", k), absl::StrCat("burst-", k)).status();
      ++done;
    }
  });
  ASSERT_TRUE(Eventually([&] { return done.load() >= 50; }));
  server_->Kill();
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  poster.join();
  for (int k = 0; k < 200; ++k) EXPECT_TRUE(results[k].ok()) << k << ": " << results[k];

  // Issued while the server is down; it comes back within the deadline.
  server_->Kill();
  absl::StatusOr<v1::Message> across;
  absl::Time returned;
  std::thread late([&] {
    across = anna.Post(thread_, "m200", "across-the-restart");
    returned = absl::Now();
  });
  absl::SleepFor(absl::Seconds(1));  // the post keeps trying meanwhile
  const absl::Time restarted = absl::Now();
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  late.join();
  ASSERT_TRUE(across.ok()) << across.status();
  EXPECT_GE(returned, restarted);

  // Each message exactly once, in order, numbered without holes.
  std::vector<v1::Message> stored;
  int64_t after = 0;
  while (true) {
    v1::ListMessagesRequest r;
    r.set_thread_id(thread_);
    r.set_after_seq(after);
    r.set_page_size(500);
    auto page = anna_->ListMessages(r);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->messages().empty()) break;
    for (const v1::Message& m : page->messages()) stored.push_back(m);
    after = stored.back().seq();
  }
  ASSERT_EQ(stored.size(), 201u);
  for (int k = 0; k <= 200; ++k) {
    EXPECT_EQ(stored[k].text(), absl::StrCat("m", k));
    EXPECT_EQ(stored[k].seq(), k + 1);
  }
  EXPECT_EQ(across->seq(), 201);
}

}  // namespace
}  // namespace backline::testing
