#include "bench/messaging_bench.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "backline/client.h"
#include "backline/v1/messaging.grpc.pb.h"
#include "bench/acting_client.h"
#include "bench/proc_stats.h"
#include "bench/stream_reader.h"

namespace backline::bench {
std::vector<Row> RunMessagingBench(const MessagingBenchOptions& o) {
  const TokenIssuer tokens(o.secret);
  auto token_of = [&](const std::string& id, v1::Role role) { return tokens.For(id, role); };
  const ClientOptions copts = ActingClientOptions(o.target);
  Client client(copts);
  client.WaitForConnected(absl::Seconds(5));

  const int idle_people = o.idle_streams > 0 ? std::max(1, o.idle_streams / 10) : 0;
  v1::ApplyRosterRequest roster;
  for (int i = 0; i < o.pairs * 2; ++i) {
    v1::Person* p = roster.add_people();
    p->set_id(absl::StrCat("m", i));
    p->set_role(v1::ROLE_AGENT);
    p->set_team(absl::StrCat("t", i % 20));
    p->set_site("s");
  }
  for (int i = 0; i < idle_people; ++i) {
    v1::Person* p = roster.add_people();
    p->set_id(absl::StrCat("idle", i));
    p->set_role(v1::ROLE_AGENT);
    p->set_team("idle");
    p->set_site("s");
  }
  ActAs(token_of("bench-admin", v1::ROLE_ADMIN));
  if (auto r = client.ApplyRoster(roster); !r.ok()) std::cerr << "roster: " << r.status() << "\n";

  // One direct thread per pair: m(2i) writes, m(2i+1) reads.
  std::vector<std::string> threads(o.pairs), sender_tokens(o.pairs);
  for (int i = 0; i < o.pairs; ++i) {
    sender_tokens[i] = token_of(absl::StrCat("m", 2 * i), v1::ROLE_AGENT);
    ActAs(sender_tokens[i]);
    auto t = client.OpenDirectThread(absl::StrCat("m", 2 * i + 1));
    if (!t.ok()) std::cerr << "open: " << t.status() << "\n";
    threads[i] = t.ok() ? t->id() : "";
  }
  auto channel = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
  auto stub = v1::MessagingService::NewStub(channel);
  absl::Mutex mu;
  Samples delivered;
  std::atomic<int> ready{0};
  std::vector<std::unique_ptr<StreamReader>> readers;
  for (int i = 0; i < o.pairs; ++i) {
    readers.push_back(std::make_unique<StreamReader>(
        stub.get(), token_of(absl::StrCat("m", 2 * i + 1), v1::ROLE_AGENT),
        [&](const v1::Event& e) {
          if (e.has_caught_up()) ++ready;
          if (!e.has_message_posted()) return;
          int64_t sent = 0;
          if (!absl::SimpleAtoi(e.message_posted().message().text(), &sent)) return;
          const absl::Duration latency = absl::Now() - absl::FromUnixNanos(sent);
          absl::MutexLock lock(&mu);
          delivered.Add(latency);
        }));
  }
  while (ready.load() < o.pairs) absl::SleepFor(absl::Milliseconds(10));

  // Senders at a steady aggregate rate.
  constexpr int kSenders = 4;
  std::vector<Samples> post_rtt(kSenders);
  std::atomic<long> posted{0}, failed{0};
  std::vector<std::thread> senders;
  const absl::Time start = absl::Now();
  const absl::Time end = start + o.duration;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      Client own(copts);
      own.WaitForConnected(absl::Seconds(5));
      const absl::Duration every = absl::Seconds(kSenders / o.rate);
      absl::Time next = start + every * s / kSenders;
      for (int k = s; absl::Now() < end; k += kSenders) {
        absl::SleepFor(next - absl::Now());
        next += every;
        const int pair = k % o.pairs;
        ActAs(sender_tokens[pair]);
        const absl::Time t0 = absl::Now();
        auto r = own.Post(threads[pair], absl::StrCat(absl::ToUnixNanos(t0)));
        post_rtt[s].Add(absl::Now() - t0);
        r.ok() ? ++posted : ++failed;
      }
    });
  }
  for (auto& t : senders) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::SleepFor(absl::Seconds(1));  // let the last deliveries land
  std::vector<Row> rows;
  Row post_row(absl::StrCat("post (sender's round trip), ", o.pairs, " threads"));
  for (const Samples& s : post_rtt) post_row.samples.Merge(s);
  post_row.per_second = posted.load() / seconds;
  Row delivered_row(absl::StrCat("post -> delivered on the reader's stream, target ",
                                 static_cast<int>(o.rate), "/s"));
  {
    absl::MutexLock lock(&mu);
    delivered_row.samples = delivered;
  }
  delivered_row.per_second = delivered_row.samples.count() / seconds;
  delivered_row.note = absl::StrCat(posted.load(), " posted, ", delivered_row.samples.count(),
                                    " delivered, ", failed.load(), " failed");
  rows.push_back(post_row);
  rows.push_back(delivered_row);
  for (auto& r : readers) r->Stop();
  readers.clear();

  if (o.idle_streams > 0 && o.server_pid > 0) {
    const long rss_before = ResidentKiB(o.server_pid);
    std::atomic<int> caught_up{0};
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    std::vector<std::unique_ptr<v1::MessagingService::Stub>> stubs;
    for (int c = 0; c < 50; ++c) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // distinct connections
      channels.push_back(
          grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
      stubs.push_back(v1::MessagingService::NewStub(channels.back()));
    }
    std::vector<std::string> idle_tokens;
    for (int i = 0; i < idle_people; ++i) {
      idle_tokens.push_back(token_of(absl::StrCat("idle", i), v1::ROLE_AGENT));
    }
    std::vector<std::unique_ptr<StreamReader>> idle;
    for (int i = 0; i < o.idle_streams; ++i) {
      idle.push_back(std::make_unique<StreamReader>(stubs[i % stubs.size()].get(),
                                                    idle_tokens[i % idle_tokens.size()],
                                                    [&](const v1::Event& e) {
                                                      if (e.has_caught_up()) ++caught_up;
                                                    }));
    }
    const absl::Time open_deadline = absl::Now() + absl::Seconds(120);
    while (caught_up.load() < o.idle_streams && absl::Now() < open_deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::SleepFor(absl::Seconds(2));
    const long rss_after = ResidentKiB(o.server_pid);
    const double cpu_before = CpuSeconds(o.server_pid);
    constexpr double kIdleSeconds = 10;
    absl::SleepFor(absl::Seconds(kIdleSeconds));
    const double cpu_share = (CpuSeconds(o.server_pid) - cpu_before) / kIdleSeconds;
    Row rss(absl::StrCat(caught_up.load(), " idle streams open: server resident memory"));
    rss.note = absl::StrCat(
        rss_after / 1024, " MiB (", rss_before / 1024, " MiB before), ",
        absl::StrFormat("%.1f", (rss_after - rss_before) * 1024.0 / std::max(1, caught_up.load())),
        " bytes per stream");
    Row cpu(absl::StrCat(caught_up.load(), " idle streams open: server CPU"));
    cpu.note = absl::StrFormat("%.2f%% of one core over %.0f s", cpu_share * 100, kIdleSeconds);
    rows.push_back(rss);
    rows.push_back(cpu);
    for (auto& r : idle) r->Stop();
  }
  return rows;
}

}  // namespace backline::bench
