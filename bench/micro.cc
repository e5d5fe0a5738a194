// backline-micro: Google Benchmark micro-benchmarks of the C++ on Backline's hot paths — the
// routing choice (which policy group, the ranking of candidates, the offer transition and its
// events), verifying the bearer token every call carries, building Redis keys, and serializing
// events and escalations to bytes and back.
//
//   backline-micro                                     the CPU-only benchmarks
//   BACKLINE_MICRO_REDIS=127.0.0.1:6379 backline-micro  also the ranking as Redis computes it
//                                                      (select_candidates.lua; FLUSHes that db)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backline/v1/common.pb.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/token.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"
#include "services/router/escalation_rules.h"
#include "services/router/routing_policy.h"
#include "services/store/keys.h"

namespace backline::bench {
namespace {

v1::Person Requester() {
  v1::Person p;
  p.set_id("anna");
  p.set_role(v1::ROLE_AGENT);
  p.set_team("cph-billing");
  p.set_site("cph");
  p.add_languages("da");
  return p;
}

v1::Escalation SampleEscalation() {
  v1::CreateEscalationRequest r;
  r.set_question("Kunden vil have refunderet gebyret for sen betaling, men fakturaen er betalt");
  r.set_tried("looked up the invoice; the payment is booked two days late");
  r.set_language("da");
  r.set_priority(v1::PRIORITY_HIGH);
  auto* s = r.add_skills();
  s->set_skill("billing");
  s->set_min_proficiency(3);
  s = r.add_skills();
  s->set_skill("refunds");
  s->set_min_proficiency(2);
  return router::NewEscalation("esc-7k2m9q4xwd", Requester(), r, absl::Now());
}

// A policy like deploy/routing-policy.json: a few groups, skills mapped to them.
router::RoutingPolicy SamplePolicy() {
  auto p = router::ParseRoutingPolicy(R"({
    "groups": {
      "default": {"rings": [{"name": "everyone"}]},
      "billing": {"rings": [{"name": "team", "scope": "team", "mentor": true, "min_proficiency": 4},
                            {"name": "seniors", "roles": ["senior"], "open_after_seconds": 20},
                            {"name": "leaders", "roles": ["team_leader"], "open_after_seconds": 40}],
                  "order": "proficiency"},
      "hardware": {"rings": [{"name": "everyone"}], "order": "least_loaded"}
    },
    "skills": {"billing": "billing", "refunds": "billing", "hardware": "hardware"}
  })");
  if (!p.ok()) std::abort();
  return *p;
}

// --- the routing choice ---

void BM_PolicyGroupFor(benchmark::State& state) {
  const router::RoutingPolicy policy = SamplePolicy();
  const v1::Escalation e = SampleEscalation();
  for (auto _ : state) benchmark::DoNotOptimize(&policy.For(e));
}
BENCHMARK(BM_PolicyGroupFor);

void BM_QueueOrder(benchmark::State& state) {
  const v1::Escalation e = SampleEscalation();
  for (auto _ : state) {
    benchmark::DoNotOptimize(router::QueueScore(e));
    benchmark::DoNotOptimize(router::QueueRequirements(e));
  }
}
BENCHMARK(BM_QueueOrder);

// The C++ half of an offer: the transition and the events for the helper and the requester,
// serialized as the offer script receives them.
void BM_OfferTransitionAndEvents(benchmark::State& state) {
  const v1::Escalation e = SampleEscalation();
  const absl::Time now = absl::Now();
  for (auto _ : state) {
    v1::Escalation after =
        router::WithOffers(e, {{"soren", "off-8h2k4m6p9q"}}, now, now + absl::Seconds(15));
    std::string offer = router::OfferMadeEvent(after, "soren", now).SerializeAsString();
    std::string update = router::EscalationUpdatedEvent(after, now).SerializeAsString();
    benchmark::DoNotOptimize(offer);
    benchmark::DoNotOptimize(update);
  }
}
BENCHMARK(BM_OfferTransitionAndEvents);

void BM_ValidateAndBuildEscalation(benchmark::State& state) {
  v1::CreateEscalationRequest r;
  r.set_question("klant wil het contract opzeggen voor het einde van de looptijd");
  r.set_language("NL");
  auto* s = r.add_skills();
  s->set_skill("contracts");
  s->set_min_proficiency(3);
  const v1::Person requester = Requester();
  for (auto _ : state) {
    v1::CreateEscalationRequest copy = r;
    if (!router::ValidateCreateRequest(&copy).ok()) std::abort();
    benchmark::DoNotOptimize(router::NewEscalation("esc-7k2m9q4xwd", requester, copy, absl::Now()));
  }
}
BENCHMARK(BM_ValidateAndBuildEscalation);

// The ranking as routing gets it: select_candidates.lua over the offerable ∩ skill ∩ language
// indexes of a real Redis, among state.range(0) available people, top 3.
void BM_SelectCandidatesInRedis(benchmark::State& state) {
  const char* address = std::getenv("BACKLINE_MICRO_REDIS");
  if (address == nullptr) {
    state.SkipWithError("set BACKLINE_MICRO_REDIS=host:port (a Redis to FLUSH) to run this");
    return;
  }
  auto options = store::ParseRedisAddress(address);
  if (!options.ok()) {
    state.SkipWithError("BACKLINE_MICRO_REDIS is not host:port");
    return;
  }
  store::RedisClient redis(*options);
  (void)redis.Command({"FLUSHDB"});
  const store::Keys keys("blmicro");
  const Clock& clock = SystemClock::Instance();
  presence::RedisRosterStore roster(&redis, &keys, {}, &clock);
  presence::RedisPresenceStore presence(&redis, &keys, {}, &clock, {});
  const int people = static_cast<int>(state.range(0));
  google::protobuf::RepeatedPtrField<v1::Person> list;
  std::mt19937 rng(3);
  for (int i = 0; i < people; ++i) {
    v1::Person* p = list.Add();
    p->set_id(absl::StrCat("s", i));
    p->set_role(v1::ROLE_SENIOR);
    p->set_team(absl::StrCat("team", i % 40));
    p->set_site("cph");
    p->set_capacity(3);
    for (const char* skill : {"billing", "refunds", "hardware"}) {
      v1::Skill* s = p->add_skills();
      s->set_name(skill);
      s->set_proficiency(1 + static_cast<int>(rng() % 5));
    }
    p->add_languages(i % 2 ? "da" : "en");
  }
  if (!roster.Apply(list, false).ok()) {
    state.SkipWithError("applying the roster failed");
    return;
  }
  for (int i = 0; i < people; ++i) {
    (void)presence.SetStatus(absl::StrCat("s", i), v1::PRESENCE_STATUS_AVAILABLE, "", true);
  }
  presence::HelperRequirements req;
  req.skills = {{"billing", 3}};
  req.language = "da";
  req.exclude_person = "anna";
  req.role_keys = {keys.RoleIndex("senior")};
  for (auto _ : state) {
    auto c = presence.SelectCandidates(req, 3);
    if (!c.ok() || c->empty()) {
      state.SkipWithError("no candidates");
      break;
    }
    benchmark::DoNotOptimize(c);
  }
  (void)redis.Command({"FLUSHDB"});
}
BENCHMARK(BM_SelectCandidatesInRedis)->Arg(200)->Arg(2000)->Unit(benchmark::kMicrosecond);

// --- every call: the bearer token ---

// A token seen before (every call of a connected desktop after its first): answered from memory.
void BM_VerifyToken(benchmark::State& state) {
  const TokenCodec codec(std::string(48, 's'));
  const std::string token = *codec.Issue({"soren", v1::ROLE_SENIOR}, absl::Hours(12), absl::Now());
  for (auto _ : state) {
    auto p = codec.Verify(token);
    if (!p.ok()) std::abort();
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_VerifyToken);

// A token's first call: signature, JSON and claims checked.
void BM_VerifyNewToken(benchmark::State& state) {
  const std::string secret(48, 's');
  const std::string token =
      *TokenCodec(secret).Issue({"soren", v1::ROLE_SENIOR}, absl::Hours(12), absl::Now());
  for (auto _ : state) {
    const TokenCodec codec(secret);
    auto p = codec.Verify(token);
    if (!p.ok()) std::abort();
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_VerifyNewToken);

// --- key building ---

void BM_KeysOfAnOffer(benchmark::State& state) {
  const store::Keys keys("bl");
  for (auto _ : state) {
    benchmark::DoNotOptimize(keys.Escalation("esc-7k2m9q4xwd"));
    benchmark::DoNotOptimize(keys.EscalationDeclined("esc-7k2m9q4xwd"));
    benchmark::DoNotOptimize(keys.Presence("soren"));
    benchmark::DoNotOptimize(keys.PendingOffers("soren"));
    benchmark::DoNotOptimize(keys.Events("soren"));
    benchmark::DoNotOptimize(keys.EventsLast("soren"));
  }
  state.SetItemsProcessed(state.iterations() * 6);
}
BENCHMARK(BM_KeysOfAnOffer);

void BM_KeyWithHashTagPrefix(benchmark::State& state) {
  const store::Keys keys("{site-a}");
  for (auto _ : state) benchmark::DoNotOptimize(keys.ThreadMessages("thr-7k2m9q4xwd"));
}
BENCHMARK(BM_KeyWithHashTagPrefix);

// --- serialization ---

v1::Event SampleOfferEvent() {
  const absl::Time now = absl::Now();
  v1::Escalation after = router::WithOffers(SampleEscalation(), {{"soren", "off-8h2k4m6p9q"}}, now,
                                            now + absl::Seconds(15));
  v1::Event e = router::OfferMadeEvent(after, "soren", now);
  e.set_cursor("1718000000000-0");
  return e;
}

v1::Event SampleMessageEvent() {
  v1::Message m;
  m.set_thread_id("thr-7k2m9q4xwd");
  m.set_seq(42);
  m.set_sender("soren");
  m.set_kind(v1::MESSAGE_KIND_TEXT);
  m.set_text(
      "Tjek om betalingen er bogført; 请确认付款日期; controleer de datum; patikrinkite datą");
  m.set_client_msg_id("c-1f2e3d4c5b6a");
  v1::Event e = MessagePostedEvent(m, absl::Now());
  e.set_cursor("1718000000000-1");
  return e;
}

void Serialize(benchmark::State& state, const google::protobuf::Message& m) {
  std::string bytes;
  for (auto _ : state) {
    bytes.clear();
    m.SerializeToString(&bytes);
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

template <typename M>
void Parse(benchmark::State& state, const M& m) {
  const std::string bytes = m.SerializeAsString();
  M out;
  for (auto _ : state) {
    if (!out.ParseFromString(bytes)) std::abort();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}

void BM_SerializeOfferEvent(benchmark::State& state) { Serialize(state, SampleOfferEvent()); }
void BM_ParseOfferEvent(benchmark::State& state) { Parse(state, SampleOfferEvent()); }
void BM_SerializeMessageEvent(benchmark::State& state) { Serialize(state, SampleMessageEvent()); }
void BM_ParseMessageEvent(benchmark::State& state) { Parse(state, SampleMessageEvent()); }
void BM_SerializeEscalation(benchmark::State& state) { Serialize(state, SampleEscalation()); }
void BM_ParseEscalation(benchmark::State& state) { Parse(state, SampleEscalation()); }
BENCHMARK(BM_SerializeOfferEvent);
BENCHMARK(BM_ParseOfferEvent);
BENCHMARK(BM_SerializeMessageEvent);
BENCHMARK(BM_ParseMessageEvent);
BENCHMARK(BM_SerializeEscalation);
BENCHMARK(BM_ParseEscalation);

}  // namespace
}  // namespace backline::bench

BENCHMARK_MAIN();
