#include "bench/window_bench.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/validation.h"
#include "services/router/escalation_rules.h"
#include "services/router/redis_escalation_store.h"

namespace backline::bench {
namespace {

constexpr absl::Duration kWindow = absl::Hours(24 * 31);

// Seeds `n` escalations created evenly over the window before `now`, on four connections.
bool Seed(store::RedisClient& redis, const store::Keys& keys, int n, absl::Time now) {
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> seeders;
  for (int t = 0; t < 4; ++t) {
    seeders.emplace_back([&] {
      v1::Person requester;
      requester.set_id("window-agent");
      requester.set_role(v1::ROLE_AGENT);
      requester.set_team("bench-team");
      requester.set_site("bench-site");
      v1::CreateEscalationRequest request;
      request.set_question("hvorfor er min faktura højere end sidste måned?");
      for (int i; (i = next.fetch_add(1)) < n;) {
        const absl::Time at = now - kWindow + kWindow * (i + 0.5) / n;
        FakeClock clock(at);
        router::RedisEscalationStore store(&redis, &keys, {}, &clock);
        const v1::Escalation e = router::NewEscalation(NewServerId("esc"), requester, request, at);
        if (!store.Create(e, "", {}, {}, 0, "", {}).ok()) failed.fetch_add(1);
      }
    });
  }
  for (auto& t : seeders) t.join();
  return failed.load() == 0;
}

// Deletes every key under the prefix.
void Unseed(store::RedisClient& redis, const std::string& prefix) {
  std::string cursor = "0";
  do {
    auto page =
        redis.Command({"SCAN", cursor, "MATCH", absl::StrCat(prefix, ":*"), "COUNT", "1000"});
    if (!page.ok() || page->elements.size() != 2) return;
    cursor = page->elements[0].AsString();
    std::vector<std::string> unlink = {"UNLINK"};
    for (const auto& k : page->elements[1].elements) unlink.push_back(k.str);
    if (unlink.size() > 1) redis.Command(absl::MakeConstSpan(unlink)).IgnoreError();
  } while (cursor != "0");
}

}  // namespace

std::vector<Row> RunWindowBench(const WindowBenchOptions& o) {
  store::RedisClient redis(o.redis);
  const std::string prefix = absl::StrCat("blbench-window-", NewServerId("w"));
  const store::Keys keys(prefix);
  const absl::Time now = absl::Now();
  std::vector<Row> rows;
  if (!Seed(redis, keys, o.escalations, now)) {
    std::cerr << "backline-bench: seeding the window failed\n";
    Unseed(redis, prefix);
    return rows;
  }
  FakeClock clock(now);
  router::RedisEscalationStore store(&redis, &keys, {}, &clock);
  // Another client's PING, one after another, all the time: what anyone else waits meanwhile.
  store::RedisClient pinger(o.redis);
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  Samples* pinged = nullptr;  // where the pings go now (none between reads)
  std::thread ping([&] {
    while (!stop.load()) {
      const absl::Time t0 = absl::Now();
      const bool ok = pinger.Command({"PING"}).ok();
      const absl::Duration took = absl::Now() - t0;
      absl::MutexLock lock(&mu);
      if (ok && pinged != nullptr) pinged->Add(took);
    }
  });
  struct Way {
    int page;
    Row read, others;
    size_t heap_growth = 0;  // the most the heap grew during a read, in bytes
  };
  const std::string n = absl::StrCat(o.escalations);
  std::vector<Way> ways;
  ways.push_back({router::RedisEscalationStore::kCreatedPage,
                  Row(absl::StrCat("a month's window read in pages of ",
                                   router::RedisEscalationStore::kCreatedPage, " (", n,
                                   " escalations): the whole read")),
                  Row("meanwhile, another client's PING round trip")});
  ways.push_back({o.escalations + 1,
                  Row(absl::StrCat("the same window in one pipeline, as read until 2026-12-02: "
                                   "the whole read")),
                  Row("meanwhile, another client's PING round trip")});
  for (int r = 0; r < o.reads; ++r) {
    for (Way& w : ways) {
      int seen = 0;
      {
        absl::MutexLock lock(&mu);
        pinged = &w.others.samples;
      }
      // The heap in use as the read starts and as each page's first escalation is visited (when
      // that page's replies are all in memory).
      const size_t heap_before = mallinfo2().uordblks;
      const absl::Time t0 = absl::Now();
      const absl::Status read = store.ForEachCreatedSince(
          now - kWindow,
          [&](const v1::Escalation&) {
            if (seen++ % w.page == 0) {
              const size_t heap = mallinfo2().uordblks;
              if (heap > heap_before) w.heap_growth = std::max(w.heap_growth, heap - heap_before);
            }
            return true;
          },
          w.page);
      w.read.samples.Add(absl::Now() - t0);
      {
        absl::MutexLock lock(&mu);
        pinged = nullptr;
      }
      if (!read.ok() || seen != o.escalations) {
        w.read.note = absl::StrCat("a read saw ", seen, " of ", n, ": ", read.ToString());
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  stop.store(true);
  ping.join();
  Unseed(redis, prefix);
  for (Way& w : ways) {
    if (w.read.note.empty()) {
      w.read.note = absl::StrCat("the reader's heap grew by up to ",
                                 absl::StrFormat("%.1f", w.heap_growth / 1048576.0), " MiB");
    }
    rows.push_back(std::move(w.read));
    rows.push_back(std::move(w.others));
  }
  return rows;
}

}  // namespace backline::bench
