#include "bench/routing_bench.h"

#include <atomic>
#include <deque>
#include <iostream>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "backline/client.h"
#include "bench/acting_client.h"
#include "bench/stream_reader.h"

namespace backline::bench {
namespace {

const char* const kSkills[] = {"billing", "refunds", "hardware", "contracts"};
const char* const kLanguages[] = {"da", "en", "nl", "lt"};

}  // namespace

std::vector<Row> RunRoutingBench(const RoutingBenchOptions& o) {
  const TokenIssuer tokens(o.secret);
  auto token_of = [&](const std::string& id, v1::Role role) { return tokens.For(id, role); };
  const ClientOptions copts = ActingClientOptions(o.target);
  Client client(copts);
  client.WaitForConnected(absl::Seconds(5));

  // Seniors master every skill at 3..5 and speak every language: whoever is offerable can help,
  // so the figure measures routing, not a shortage of helpers.
  std::mt19937 rng(11);
  v1::ApplyRosterRequest roster;
  for (int i = 0; i < o.agents; ++i) {
    v1::Person* p = roster.add_people();
    p->set_id(absl::StrCat("a", i));
    p->set_role(v1::ROLE_AGENT);
    p->set_team(absl::StrCat("team", i % 40));
    p->set_site("s");
    for (const char* l : kLanguages) p->add_languages(l);
  }
  for (int i = 0; i < o.seniors; ++i) {
    v1::Person* p = roster.add_people();
    p->set_id(absl::StrCat("s", i));
    p->set_role(v1::ROLE_SENIOR);
    p->set_team(absl::StrCat("team", i % 40));
    p->set_site("s");
    p->set_capacity(3);
    for (const char* skill : kSkills) {
      v1::Skill* s = p->add_skills();
      s->set_name(skill);
      s->set_proficiency(3 + static_cast<int>(rng() % 3));
    }
    for (const char* l : kLanguages) p->add_languages(l);
  }
  ActAs(token_of("bench-admin", v1::ROLE_ADMIN));
  if (auto r = client.ApplyRoster(roster); !r.ok()) std::cerr << "roster: " << r.status() << "\n";

  // Everyone connects: agents and seniors each hold an event stream, over a few connections.
  std::vector<std::unique_ptr<v1::MessagingService::Stub>> stubs;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < 20; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);
    channels.push_back(
        grpc::CreateCustomChannel(o.target, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::MessagingService::NewStub(channels.back()));
  }
  std::atomic<int> connected{0};
  absl::Mutex mu;
  Samples to_offer;
  std::deque<std::pair<int, std::string>> to_accept;  // senior, escalation
  std::vector<std::string> senior_tokens;
  for (int i = 0; i < o.seniors; ++i)
    senior_tokens.push_back(token_of(absl::StrCat("s", i), v1::ROLE_SENIOR));
  std::vector<std::unique_ptr<StreamReader>> streams;
  for (int i = 0; i < o.seniors; ++i) {
    streams.push_back(std::make_unique<StreamReader>(
        stubs[i % stubs.size()].get(), senior_tokens[i], [&, i](const v1::Event& e) {
          if (e.has_caught_up()) ++connected;
          if (!e.has_offer()) return;
          int64_t sent = 0;
          if (!absl::SimpleAtoi(e.offer().escalation().question(), &sent)) return;
          const absl::Duration latency = absl::Now() - absl::FromUnixNanos(sent);
          absl::MutexLock lock(&mu);
          to_offer.Add(latency);
          to_accept.emplace_back(i, e.offer().escalation().id());
        }));
  }
  for (int i = 0; i < o.agents; ++i) {
    streams.push_back(std::make_unique<StreamReader>(stubs[i % stubs.size()].get(),
                                                     token_of(absl::StrCat("a", i), v1::ROLE_AGENT),
                                                     [&](const v1::Event& e) {
                                                       if (e.has_caught_up()) ++connected;
                                                     }));
  }
  const int everyone = o.agents + o.seniors;
  const absl::Time connect_deadline = absl::Now() + absl::Seconds(120);
  while (connected.load() < everyone && absl::Now() < connect_deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (int i = 0; i < o.seniors; ++i) {
    ActAs(senior_tokens[i]);
    (void)client.SetStatus(v1::PRESENCE_STATUS_AVAILABLE);
  }

  // Seniors accept what they are offered and resolve it a little later.
  std::atomic<bool> stop{false};
  std::atomic<long> accepted{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      Client own(copts);
      std::deque<std::tuple<absl::Time, int, std::string>> to_resolve;
      while (!stop.load() || !to_resolve.empty()) {
        std::pair<int, std::string> job;
        bool have = false;
        {
          absl::MutexLock lock(&mu);
          if (!to_accept.empty()) {
            job = to_accept.front();
            to_accept.pop_front();
            have = true;
          }
        }
        if (have) {
          ActAs(senior_tokens[job.first]);
          if (own.AcceptOffer(job.second).ok()) {
            ++accepted;
            to_resolve.emplace_back(absl::Now() + absl::Milliseconds(500), job.first, job.second);
          }
        }
        while (!to_resolve.empty() &&
               (std::get<0>(to_resolve.front()) <= absl::Now() || stop.load())) {
          ActAs(senior_tokens[std::get<1>(to_resolve.front())]);
          (void)own.ResolveEscalation(std::get<2>(to_resolve.front()));
          to_resolve.pop_front();
        }
        if (!have) absl::SleepFor(absl::Milliseconds(1));
      }
    });
  }

  // Agents escalate at a steady rate.
  Samples create_rtt;
  long created = 0, failed = 0;
  const absl::Duration every = absl::Seconds(1 / o.rate);
  const absl::Time start = absl::Now();
  absl::Time next = start;
  std::vector<std::string> agent_tokens;
  for (int i = 0; i < o.agents; ++i)
    agent_tokens.push_back(token_of(absl::StrCat("a", i), v1::ROLE_AGENT));
  while (absl::Now() < start + o.duration) {
    absl::SleepFor(next - absl::Now());
    next += every;
    ActAs(agent_tokens[rng() % agent_tokens.size()]);
    v1::CreateEscalationRequest r;
    const absl::Time t0 = absl::Now();
    r.set_question(absl::StrCat(absl::ToUnixNanos(t0)));
    r.set_language(kLanguages[rng() % 4]);
    auto* s = r.add_skills();
    s->set_skill(kSkills[rng() % 4]);
    s->set_min_proficiency(2);
    auto e = client.Escalate(r);
    create_rtt.Add(absl::Now() - t0);
    e.ok() ? ++created : ++failed;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::SleepFor(absl::Seconds(1));
  stop.store(true);
  for (auto& w : workers) w.join();

  // The looking-for-help list at a backlog: every senior is busy (on break, as far as routing is
  // concerned), escalations of every skill and language wait, and seniors' trays read the list.
  for (int i = 0; i < o.seniors; ++i) {
    ActAs(senior_tokens[i]);
    (void)client.SetStatus(v1::PRESENCE_STATUS_BREAK);
  }
  std::vector<std::string> waiting;
  for (int i = 0; i < o.waiting; ++i) {
    ActAs(agent_tokens[i % agent_tokens.size()]);
    v1::CreateEscalationRequest r;
    r.set_question("waits");
    r.set_language(kLanguages[i % 4]);
    auto* s = r.add_skills();
    s->set_skill(kSkills[(i / 4) % 4]);
    s->set_min_proficiency(2);
    if (auto e = client.Escalate(r); e.ok()) waiting.push_back(e->id());
  }
  Samples list_rtt;
  long listed = 0;
  for (int k = 0; k < 200; ++k) {
    ActAs(senior_tokens[k % senior_tokens.size()]);
    v1::ListWaitingRequest request;
    request.set_page_size(o.waiting);
    const absl::Time t0 = absl::Now();
    auto list = client.ListWaiting(request);
    list_rtt.Add(absl::Now() - t0);
    if (list.ok()) listed += list->escalations_size();
  }
  for (size_t i = 0; i < waiting.size(); ++i) {
    ActAs(agent_tokens[i % agent_tokens.size()]);
    (void)client.CancelEscalation(waiting[i]);
  }
  // The service level a supervisor's view reads: every escalation of the last hour.
  ActAs(token_of("bench-admin", v1::ROLE_ADMIN));
  Samples stats_rtt;
  int in_window = 0;
  for (int k = 0; k < 50; ++k) {
    const absl::Time t0 = absl::Now();
    auto stats = client.GetStats(v1::GetStatsRequest());
    stats_rtt.Add(absl::Now() - t0);
    if (stats.ok()) in_window = stats->total().created();
  }
  for (auto& s : streams) s->Stop();

  std::vector<Row> rows;
  Row create_row(absl::StrCat("escalate (the agent's round trip), ", everyone, " connected"));
  create_row.samples = create_rtt;
  create_row.per_second = created / seconds;
  Row offer_row(
      absl::StrCat("escalation -> offer on the helper's stream, ", static_cast<int>(o.rate), "/s"));
  {
    absl::MutexLock lock(&mu);
    offer_row.samples = to_offer;
  }
  offer_row.per_second = offer_row.samples.count() / seconds;
  offer_row.note = absl::StrCat(created, " created, ", offer_row.samples.count(), " offered, ",
                                accepted.load(), " accepted, ", failed, " failed");
  Row list_row(absl::StrCat("looking-for-help list (ListWaiting), ", waiting.size(),
                            " waiting: a senior's round trip"));
  list_row.samples = list_rtt;
  list_row.note = absl::StrCat(listed / std::max<long>(1, static_cast<long>(list_rtt.count())),
                               " listed per call");
  Row stats_row(absl::StrCat("service level (GetStats, the last hour: ", in_window,
                             " escalations): a supervisor's round trip"));
  stats_row.samples = stats_rtt;
  rows.push_back(create_row);
  rows.push_back(offer_row);
  rows.push_back(list_row);
  rows.push_back(stats_row);
  return rows;
}

}  // namespace backline::bench
