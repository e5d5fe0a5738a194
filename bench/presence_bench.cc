#include "bench/presence_bench.h"

#include <atomic>
#include <iostream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backline/client.h"
#include "bench/acting_client.h"

namespace backline::bench {
namespace {

// One client whose calls carry the token of whoever the calling thread acts as.
std::unique_ptr<Client> SharedClient(const std::string& target) {
  auto client = std::make_unique<Client>(ActingClientOptions(target));
  client->WaitForConnected(absl::Seconds(5));
  return client;
}

v1::ApplyRosterRequest MakeRoster(int n, int version) {
  static const char* const kLanguages[] = {"da", "en", "nl", "lt", "zh-Hant"};
  std::mt19937 rng(7);
  v1::ApplyRosterRequest r;
  for (int i = 0; i < n; ++i) {
    v1::Person* p = r.add_people();
    p->set_id(absl::StrCat("p", i));
    p->set_display_name(absl::StrCat("Person ", i));
    p->set_role(i % 10 == 0 ? v1::ROLE_AGENT : v1::ROLE_SENIOR);
    p->set_team(absl::StrCat("team", i % 50));
    p->set_site(absl::StrCat("site", i % 5));
    p->set_capacity(1 + static_cast<int>(rng() % 3));
    for (const char* skill : {"billing", "refunds", "hardware"}) {
      if (rng() % 3 != 0) {
        v1::Skill* s = p->add_skills();
        s->set_name(skill);
        s->set_proficiency(1 + static_cast<int>(rng() % 5));
      }
    }
    p->add_languages(i % 2 == 0 ? "da" : "en");
    p->add_languages(kLanguages[rng() % 5]);
    // A later version changes every twentieth person.
    if (version > 0 && i % 20 == 0) p->set_capacity(p->capacity() % 3 + 1);
  }
  return r;
}

}  // namespace

std::vector<Row> RunPresenceBench(const PresenceBenchOptions& o, double grpc_floor_p50_ms) {
  const TokenIssuer tokens(o.secret);
  auto token_of = [&](const std::string& id, v1::Role role) { return tokens.For(id, role); };
  auto client = SharedClient(o.target);
  std::vector<Row> rows;

  // Applying the roster: new (from empty), unchanged, and with a twentieth of it changed.
  ActAs(token_of("bench-admin", v1::ROLE_ADMIN));
  const v1::ApplyRosterRequest roster = MakeRoster(o.people, 0);
  const v1::ApplyRosterRequest changed = MakeRoster(o.people, 1);
  Row apply_new(absl::StrCat("apply a ", o.people, "-person roster, all new"));
  Row apply_same(absl::StrCat("apply the same ", o.people, "-person roster again"));
  Row apply_changed(absl::StrCat("apply it with ", o.people / 20, " people changed"));
  for (int rep = 0; rep < 3; ++rep) {
    if (!client->ApplyRoster(v1::ApplyRosterRequest()).ok()) std::cerr << "clearing failed\n";
    absl::Time start = absl::Now();
    auto r = client->ApplyRoster(roster);
    apply_new.samples.Add(absl::Now() - start);
    if (!r.ok()) std::cerr << "apply: " << r.status() << "\n";
    start = absl::Now();
    (void)client->ApplyRoster(roster);
    apply_same.samples.Add(absl::Now() - start);
    start = absl::Now();
    (void)client->ApplyRoster(changed);
    apply_changed.samples.Add(absl::Now() - start);
    (void)client->ApplyRoster(roster);
  }
  rows.push_back(apply_new);
  rows.push_back(apply_same);
  rows.push_back(apply_changed);

  // The first `available` seniors set themselves available.
  std::vector<std::string> helpers;
  for (const auto& p : roster.people()) {
    if (p.role() == v1::ROLE_SENIOR && static_cast<int>(helpers.size()) < o.available) {
      helpers.push_back(p.id());
    }
  }
  std::vector<std::string> helper_tokens;
  for (const std::string& id : helpers) helper_tokens.push_back(token_of(id, v1::ROLE_SENIOR));
  Row set_status("set status (one caller at a time)");
  set_status.floor_p50_ms = grpc_floor_p50_ms;
  for (size_t i = 0; i < helpers.size(); ++i) {
    ActAs(helper_tokens[i]);
    const absl::Time start = absl::Now();
    auto r = client->SetStatus(v1::PRESENCE_STATUS_AVAILABLE);
    set_status.samples.Add(absl::Now() - start);
    if (!r.ok()) std::cerr << "set status: " << r.status() << "\n";
  }
  rows.push_back(set_status);

  // Who is available for billing >= 3 in Danish, among all of them.
  ActAs(token_of("p0", v1::ROLE_AGENT));
  v1::ListAvailableRequest who;
  who.set_skill("billing");
  who.set_min_proficiency(3);
  who.set_language("da");
  who.set_page_size(20);
  Row who_row(absl::StrCat("who: billing>=3 in da, ", o.people, " people, ", helpers.size(),
                           " available, top 20"));
  who_row.floor_p50_ms = grpc_floor_p50_ms;
  int found = 0;
  for (int i = 0; i < o.who_calls; ++i) {
    const absl::Time start = absl::Now();
    auto r = client->ListAvailable(who);
    who_row.samples.Add(absl::Now() - start);
    if (r.ok()) found = r->people_size();
  }
  who_row.note = absl::StrCat(found, " returned");
  rows.push_back(who_row);

  // Presence changes per second: threads flip random helpers between AVAILABLE and ON_CALL.
  std::atomic<bool> stop{false};
  std::atomic<long> changes{0};
  std::vector<Samples> per_thread(o.threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      auto own = SharedClient(o.target);
      std::mt19937 rng(t);
      while (!stop.load()) {
        const size_t i = rng() % helpers.size();
        ActAs(helper_tokens[i]);
        const absl::Time start = absl::Now();
        auto r =
            own->SetStatus(rng() % 2 ? v1::PRESENCE_STATUS_AVAILABLE : v1::PRESENCE_STATUS_ON_CALL);
        per_thread[t].Add(absl::Now() - start);
        if (r.ok()) ++changes;
      }
    });
  }
  const absl::Time start = absl::Now();
  absl::SleepFor(o.change_for);
  stop.store(true);
  for (auto& t : threads) t.join();
  Row change_row(absl::StrCat("presence changes, ", o.threads, " callers at once"));
  for (const Samples& s : per_thread) change_row.samples.Merge(s);
  change_row.per_second = changes.load() / absl::ToDoubleSeconds(absl::Now() - start);
  rows.push_back(change_row);
  return rows;
}

}  // namespace backline::bench
