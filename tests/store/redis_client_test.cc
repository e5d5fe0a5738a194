// RedisClient against a real redis-server: commands, pipelines, scripts reloaded after the
// server lost them, binary-safe arguments, and UNAVAILABLE (never a hang) when it is down.
#include "services/store/redis_client.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/store/script_call.h"
#include "tests/support/redis_server.h"

namespace backline::testing {
namespace {

TEST(RedisClientTest, CommandsArePassedBinarySafe) {
  SharedRedis().Flush();
  store::RedisClient redis(SharedRedis().client_options());
  const std::string value("a\0b\r\n%s\xff", 9);
  ASSERT_TRUE(redis.Command({"SET", "k", value}).ok());
  auto got = redis.Command({"GET", "k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->str, value);
  auto missing = redis.Command({"GET", "nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());
  auto err = redis.Command({"INCR", "k"});
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->type, store::RedisReply::Type::kError);
}

TEST(RedisClientTest, PipelineRepliesInOrder) {
  SharedRedis().Flush();
  store::RedisClient redis(SharedRedis().client_options());
  auto replies = redis.Pipeline({{"INCR", "n"}, {"INCR", "n"}, {"GET", "n"}, {"LLEN", "x"}});
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 4u);
  EXPECT_EQ((*replies)[0].integer, 1);
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_EQ((*replies)[2].str, "2");
  EXPECT_EQ((*replies)[3].integer, 0);
}

TEST(RedisClientTest, ScriptsAreReloadedAfterTheServerForgotThem) {
  SharedRedis().Flush();
  store::RedisClient redis(SharedRedis().client_options());
  store::RedisScript script("echo", "return {KEYS[1], ARGV[1]}");
  auto first = redis.Eval(script, {"key"}, {"arg"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(redis.Command({"SCRIPT", "FLUSH"}).ok());
  auto second = redis.Eval(script, {"key"}, {"arg"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->elements[1].str, "arg");
  store::RedisScript failing("fail", "return redis.error_reply('boom')");
  EXPECT_EQ(redis.Eval(failing, {}, {}).status().code(), absl::StatusCode::kInternal);
}

TEST(RedisClientTest, ManyCallsOfAScriptAnswerInOrderEachWithItsOwnError) {
  SharedRedis().Flush();
  store::RedisClient redis(SharedRedis().client_options());
  store::RedisScript script("pick",
                            "if ARGV[1] == 'fail' then return redis.error_reply('no ' .. KEYS[1]) "
                            "end return {KEYS[1], ARGV[1]}");
  const std::vector<store::RedisClient::ScriptInvocation> calls = {
      {{"a"}, {"1"}, &script}, {{"b"}, {"fail"}, &script}, {{"c"}, {"3"}, &script}};
  // Twice: the first time the server does not know the script yet (NOSCRIPT, loaded again for
  // every call), the second time it does; then once more after it forgot it.
  for (int round = 0; round < 3; ++round) {
    if (round == 2) {
      ASSERT_TRUE(redis.Command({"SCRIPT", "FLUSH"}).ok());
    }
    auto replies = redis.EvalMany(calls);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ASSERT_EQ(replies->size(), 3u) << "round " << round;
    ASSERT_TRUE((*replies)[0].ok()) << (*replies)[0].status();
    EXPECT_EQ((*replies)[0]->elements[0].str, "a");
    EXPECT_EQ((*replies)[0]->elements[1].str, "1");
    EXPECT_EQ((*replies)[1].status().code(), absl::StatusCode::kInternal);
    EXPECT_NE((*replies)[1].status().message().find("no b"), std::string::npos)
        << (*replies)[1].status();
    ASSERT_TRUE((*replies)[2].ok()) << (*replies)[2].status();
    EXPECT_EQ((*replies)[2]->elements[0].str, "c");
  }
  auto none = redis.EvalMany({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(RedisClientTest, CallsOfDifferentScriptsGoInOneRoundTripInOrder) {
  SharedRedis().Flush();
  store::RedisClient redis(SharedRedis().client_options());
  store::RedisScript write("write", "redis.call('SET', KEYS[1], ARGV[1]) return 'set'");
  store::RedisScript read("read", "return redis.call('GET', KEYS[1])");
  // Redis runs them in the order sent: the read sees the write before it. The first round
  // loads both scripts (NOSCRIPT), the second finds them.
  for (int round = 0; round < 2; ++round) {
    const std::string value = absl::StrCat("v", round);
    auto replies = redis.EvalMany({{{"k"}, {value}, &write}, {{"k"}, {}, &read}});
    ASSERT_TRUE(replies.ok()) << replies.status();
    ASSERT_EQ(replies->size(), 2u);
    ASSERT_TRUE((*replies)[0].ok() && (*replies)[1].ok());
    EXPECT_EQ((*replies)[0]->str, "set");
    EXPECT_EQ((*replies)[1]->str, value);
  }
}

TEST(RedisClientTest, UnavailableWhenDownAndRecoversWhenBack) {
  RedisServer own;
  store::RedisOptions options = own.client_options();
  options.command_timeout = absl::Milliseconds(300);
  store::RedisClient redis(options);
  ASSERT_TRUE(redis.Command({"SET", "a", "1"}).ok());
  own.Kill();
  const absl::Time start = absl::Now();
  auto r = redis.Command({"GET", "a"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  auto p = redis.Pipeline({{"GET", "a"}});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  own.Start();
  absl::StatusOr<store::RedisReply> back;
  for (int i = 0; i < 20 && !(back = redis.Command({"PING"})).ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(back.ok()) << back.status();
}

// Keeps Redis busy for ARGV[1] microseconds, then returns 1.
const store::RedisScript& BusyScript() {
  static const store::RedisScript busy(
      "busy",
      "local t = redis.call('TIME') local s = t[1] * 1e6 + t[2] "
      "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] - s > tonumber(ARGV[1]) "
      "return 1");
  return busy;
}

// A hung Redis (stopped, connections open): the first command waits out the timeout; from then
// on one caller at a time tries Redis and the others are refused at once, until Redis answers.
TEST(RedisClientTest, AHungRedisLetsOneCallerThroughAtATime) {
  RedisServer own;
  store::RedisOptions options = own.client_options();
  options.command_timeout = absl::Milliseconds(300);
  options.pool_size = 8;
  store::RedisClient redis(options);
  ASSERT_TRUE(redis.Command({"SET", "a", "1"}).ok());
  EXPECT_FALSE(redis.hung());
  ::kill(own.pid(), SIGSTOP);
  auto first = redis.Command({"GET", "a"});
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(redis.hung());

  constexpr int kCallers = 6;
  std::atomic<bool> go{false};
  std::atomic<int> refused{0}, tried{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      absl::Status st = i % 2 == 0 ? redis.Command({"GET", "a"}).status()
                                   : redis.Pipeline({{"GET", "a"}, {"GET", "a"}}).status();
      EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
      ++(absl::StrContains(st.message(), "not answering") ? refused : tried);
    });
  }
  go = true;
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(tried.load(), 1) << "callers that went to the hung Redis";
  EXPECT_EQ(refused.load(), kCallers - 1);

  ::kill(own.pid(), SIGCONT);
  auto back = redis.Command({"GET", "a"});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->str, "1");
  EXPECT_FALSE(redis.hung());
  EXPECT_TRUE(redis.Pipeline({{"GET", "a"}}).ok());
}

// Every connection busy with calls Redis answers in time: a caller that waits out the timeout
// for a free one gets UNAVAILABLE, but Redis is not taken for hung, so nobody else is refused.
TEST(RedisClientTest, WaitingOutTheTimeoutForAConnectionIsNotAHungRedis) {
  store::RedisOptions options = SharedRedis().client_options();
  options.pool_size = 1;
  options.command_timeout = absl::Milliseconds(400);
  store::RedisClient redis(options);
  ASSERT_TRUE(redis.Eval(BusyScript(), {}, {"0"}).ok());  // connected, script loaded

  // Three calls of 250 ms each on one connection: the first holds it until 250 ms, the second
  // until 500 ms, and the third gives up waiting at 400 ms (150 ms to spare for each script).
  constexpr int kCallers = 3;
  std::atomic<bool> go{false}, done{false}, seen_hung{false};
  std::atomic<int> answered{0}, no_connection{0};
  std::thread watcher([&] {
    while (!done.load()) {
      if (redis.hung()) seen_hung = true;
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      auto r = redis.Eval(BusyScript(), {}, {"250000"});
      if (r.ok()) {
        ++answered;
      } else {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
        EXPECT_TRUE(absl::StrContains(r.status().message(), "no free connection")) << r.status();
        ++no_connection;
      }
    });
  }
  go = true;
  for (std::thread& t : callers) t.join();
  done = true;
  watcher.join();
  EXPECT_EQ(answered.load(), kCallers - 1);
  EXPECT_EQ(no_connection.load(), 1);
  EXPECT_FALSE(seen_hung.load()) << "a wait for a connection was taken for Redis hanging";
  EXPECT_TRUE(redis.Command({"PING"}).ok());
}

// A connection polls for its replies while they come within the budget; after one that did not
// (Redis busy) it waits at once for its next 16, then polls again.
TEST(RedisClientTest, AReplyLateForItsPollMakesTheNextWaitsUnpolled) {
  store::RedisOptions options = SharedRedis().client_options();
  options.pool_size = 1;
  options.reply_spin = absl::Milliseconds(20);  // far more than a PING takes, even on a busy host
  store::RedisClient redis(options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(redis.Command({"PING"}).ok());
  EXPECT_EQ(redis.unpolled_waits(), 0);
  // Keeps Redis busy for 60 ms: the poll runs out first.
  ASSERT_TRUE(redis.Eval(BusyScript(), {}, {"60000"}).ok());
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(redis.Command({"PING"}).ok());
  EXPECT_EQ(redis.unpolled_waits(), 16);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(redis.Command({"PING"}).ok());
  EXPECT_EQ(redis.unpolled_waits(), 16) << "the connection should poll again";
}

TEST(RedisClientTest, PoolIsSharedSafelyByManyThreads) {
  SharedRedis().Flush();
  store::RedisOptions options = SharedRedis().client_options();
  options.pool_size = 3;
  store::RedisClient redis(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) ASSERT_TRUE(redis.Command({"INCR", "counter"}).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redis.Command({"GET", "counter"})->str, "2400");
}

TEST(RedisSubscriberTest, DeliversMessagesAndResubscribesAfterRestart) {
  RedisServer own;
  std::atomic<int> connected{0};
  absl::Mutex mu;
  std::vector<std::string> got;
  store::RedisSubscriber sub(
      own.client_options(), {"chan"},
      [&](absl::string_view, absl::string_view m) {
        absl::MutexLock lock(&mu);
        got.emplace_back(m);
      },
      [&] { ++connected; });
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 200 && !pred(); ++i) absl::SleepFor(absl::Milliseconds(20));
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return connected.load() == 1; }));
  own.Command({"PUBLISH", "chan", "one"});
  ASSERT_TRUE(wait_for([&] {
    absl::MutexLock lock(&mu);
    return got.size() == 1;
  }));
  own.Kill();
  own.Start();
  ASSERT_TRUE(wait_for([&] { return connected.load() == 2; })) << "did not resubscribe";
  own.Command({"PUBLISH", "chan", "two"});
  ASSERT_TRUE(wait_for([&] {
    absl::MutexLock lock(&mu);
    return got.size() == 2;
  }));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(got[1], "two");
}

}  // namespace
}  // namespace backline::testing
