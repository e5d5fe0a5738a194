#include "bench/load_run.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "backline/client.h"
#include "backline/v1/messaging.grpc.pb.h"
#include "bench/acting_client.h"
#include "bench/floor.h"
#include "bench/stream_floor.h"
#include "bench/stream_reader.h"
#include "services/common/status.h"

namespace backline::bench {
namespace {

std::mt19937_64& Rng() {
  static std::atomic<uint64_t> seeds{20240611};
  thread_local std::mt19937_64 rng(seeds.fetch_add(7919));
  return rng;
}

double Uniform() { return std::uniform_real_distribution<double>(0, 1)(Rng()); }

absl::Duration Draw(const MillisRange& r) {
  return absl::Milliseconds(std::uniform_int_distribution<int>(r.min, r.max)(Rng()));
}

// A name drawn by weight.
std::string Pick(const std::map<std::string, double>& weights) {
  double total = 0;
  for (const auto& [name, w] : weights) total += w;
  double x = Uniform() * total;
  for (const auto& [name, w] : weights) {
    if ((x -= w) <= 0) return name;
  }
  return weights.rbegin()->first;
}

// gRPC-style name of a status code, for the error table.
std::string CodeName(const absl::Status& s) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(s.code());
  return code >= 0 && code <= 16 ? kNames[code] : absl::StrCat("code ", code);
}

// Timed work for a few threads: the people's calls, each at its time. A call that blocks holds
// one worker; the lag samples say how late the work ran, i.e. whether the generator kept up.
class ActionQueue {
 public:
  ActionQueue(int workers, std::function<void()> on_worker_start) {
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this, on_worker_start] {
        if (on_worker_start) on_worker_start();
        Work();
      });
    }
  }
  ~ActionQueue() { Stop(); }

  void At(absl::Time at, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    const bool first = heap_.empty() || at < heap_.top().at;
    heap_.push({at, next_++, std::move(fn)});
    if (first) leader_cv_.Signal();
  }
  size_t pending() {
    absl::MutexLock lock(&mu_);
    return heap_.size();
  }
  // Drops what has not run yet and joins the workers.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      stop_ = true;
      leader_cv_.SignalAll();
      follower_cv_.SignalAll();
    }
    for (auto& t : threads_) t.join();
  }
  void RecordLagFrom(absl::Time from) {
    absl::MutexLock lock(&mu_);
    record_from_ = from;
  }
  Samples lag() {
    absl::MutexLock lock(&mu_);
    return lag_;
  }

 private:
  struct Item {
    absl::Time at;
    uint64_t order;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  // One worker at a time (the leader) waits for the next item's time; the others sleep until
  // the leader takes an item and hands over. With every idle worker waiting for the same time,
  // all of them woke for each item and all but one slept again: 13 context switches per action.
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        while (!stop_ && leader_) follower_cv_.Wait(&mu_);
        if (stop_) return;
        leader_ = true;
        while (true) {
          if (stop_) {
            leader_ = false;
            return;
          }
          const absl::Time now = absl::Now();
          if (!heap_.empty() && heap_.top().at <= now) break;
          leader_cv_.WaitWithDeadline(
              &mu_, heap_.empty() ? now + absl::Milliseconds(100) : heap_.top().at);
        }
        const Item& top = heap_.top();
        const absl::Time now = absl::Now();
        if (top.at >= record_from_) lag_.Add(now - top.at);
        fn = std::move(const_cast<Item&>(top).fn);
        heap_.pop();
        leader_ = false;
        follower_cv_.Signal();
      }
      fn();
    }
  }

  absl::Mutex mu_;
  absl::CondVar leader_cv_, follower_cv_;
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap_ ABSL_GUARDED_BY(mu_);
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time record_from_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  Samples lag_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// One person's event stream, whichever way it is read.
class PersonStream {
 public:
  virtual ~PersonStream() = default;
  virtual void Stop() = 0;
};

class ReaderStream : public PersonStream {
 public:
  ReaderStream(v1::MessagingService::Stub* stub, const std::string& token,
               StreamReader::OnEvent on_event, const std::string& session)
      : reader_(stub, token, std::move(on_event), session) {}
  void Stop() override { reader_.Stop(); }

 private:
  StreamReader reader_;
};

class FeedStream : public PersonStream {
 public:
  FeedStream(const std::string& target, const std::string& token, const std::string& session,
             std::function<void(const v1::Event&)> on_event, std::function<void()> on_connected) {
    ClientOptions o;
    o.target = target;
    o.token = token;
    client_ = std::make_unique<Client>(o);
    FeedOptions f;
    f.session_id = session;
    f.on_event = std::move(on_event);
    f.on_state = [on_connected](const FeedStateChange& s) {
      if (s.state == FeedState::kConnected) on_connected();
    };
    feed_ = client_->OpenFeed(f);
  }
  void Stop() override { feed_->Stop(); }

 private:
  std::unique_ptr<Client> client_;
  std::unique_ptr<EventFeed> feed_;
};

constexpr const char* kQuestions[] = {
    "customer disputes a double charge on the last invoice",
    "Kunden vil have refunderet gebyret for sen betaling",
    "klant wil het contract opzeggen voor het einde van de looptijd",
    "klientas teigia, kad maršrutizatorius neveikia po atnaujinimo",
    "客户询问如何更改账单地址",
};

// Message texts start with a tag the simulation reads back: `#<seq>.<k> <sent-ns> ...` for the
// k-th message of escalation <seq>, `d<pair> <sent-ns> ...` for direct chat.
bool ParseTagged(const std::string& text, char kind, int64_t* id, int* k, absl::Time* sent) {
  if (text.empty() || text[0] != kind) return false;
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text).substr(1), absl::MaxSplits(' ', 2));
  if (parts.size() < 2) return false;
  std::pair<absl::string_view, absl::string_view> ids = absl::StrSplit(parts[0], '.');
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(ids.first, id) || !absl::SimpleAtoi(parts[1], &nanos)) return false;
  if (k != nullptr && !absl::SimpleAtoi(ids.second, k)) return false;
  *sent = absl::FromUnixNanos(nanos);
  return true;
}

// `#<seq> question...` -> seq.
bool ParseQuestion(const std::string& question, int64_t* seq) {
  if (question.empty() || question[0] != '#') return false;
  return absl::SimpleAtoi(absl::string_view(question).substr(1, question.find(' ') - 1), seq);
}

class Simulation {
 public:
  Simulation(const Scenario& s, const LoadOptions& o) : s_(s), o_(o), tokens_(o.secret) {}

  LoadReport Run();

 private:
  struct Person {
    std::string id;
    std::string token;
    // The desktop session of the person's stream, which their posts name (LoadOptions::echo).
    std::string session() const { return absl::StrCat("desk:", id); }
  };
  // One escalation the simulation made.
  struct Escalation {
    int agent = 0;
    absl::Time created;
    bool recorded = false;  // created inside the measured window
    bool probe = false;     // made alone, to count round trips: nobody answers it
    std::string id;
    std::string thread;
    int helper = -1;
    absl::Time offered = absl::InfiniteFuture();
    absl::Time accept_sent = absl::InfiniteFuture();
    bool accepted = false;
    bool finished = false;
  };

  void Count(const std::string& what, long n = 1) {
    absl::MutexLock lock(&mu_);
    counts_[what] += n;
  }
  // Records a call's outcome (and its round trip when it started inside the window).
  void Called(const std::string& call, const absl::Status& status, absl::Time start, Samples* rtt) {
    const absl::Time end = absl::Now();
    absl::MutexLock lock(&mu_);
    if (!status.ok()) errors_[call][CodeName(status)]++;
    if (rtt != nullptr && Recording(start)) rtt->Add(end - start);
  }
  // Makes one call as the person with `token` on this worker's client: `call(client, start)`,
  // timed and recorded under `name`.
  template <typename Call>
  auto Act(const std::string& token, const std::string& name, Samples* rtt, Call call) {
    ActAs(token);
    const absl::Time start = absl::Now();
    auto r = call(client(), start);
    Called(name, r.status(), start, rtt);
    return r;
  }
  bool Recording(absl::Time t) const { return t >= window_from_ && t < window_to_; }
  Client& client() { return *worker_client_; }

  void BuildRoster();
  bool Connect();
  void MeasureFloors(LoadReport* report);
  void CountRoundTrips(LoadReport* report);
  void RunLoadPhase(LoadReport* report);

  void OnEvent(bool senior, int index, const v1::Event& e);
  void OnOffer(int senior, const v1::OfferEvent& offer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnRequesterUpdate(const v1::Escalation& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnMessage(bool senior, int index, const v1::Message& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Actions, on the workers.
  void Create(bool probe, int agent_hint);
  void Answer(int64_t seq, int senior, std::string offer_id, bool accept);
  void Post(int64_t seq, int k);
  void Resolve(int64_t seq);
  void Cancel(int64_t seq);
  void DirectPost(int pair, int k);
  void BackFromBreak(int senior);

  const Scenario& s_;
  const LoadOptions& o_;
  const TokenIssuer tokens_;
  std::vector<Person> agents_, seniors_;
  std::unique_ptr<Client> main_client_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::MessagingService::Stub>> stubs_;
  static constexpr int kPostChannels = 4;
  std::vector<std::unique_ptr<v1::MessagingService::Stub>> post_stubs_;
  std::vector<std::unique_ptr<PersonStream>> streams_;
  std::atomic<int> connected_{0};
  std::atomic<int> in_flight_{0};  // direct posts sent and not answered yet
  std::unique_ptr<ActionQueue> queue_;
  static thread_local Client* worker_client_;
  std::vector<std::unique_ptr<Client>> worker_clients_;
  absl::Mutex clients_mu_;
  std::vector<std::string> direct_threads_;

  absl::Time window_from_ = absl::InfiniteFuture();
  absl::Time window_to_ = absl::InfiniteFuture();

  absl::Mutex mu_;
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::unordered_map<int64_t, Escalation> escalations_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> agent_busy_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, long> counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, long>> errors_ ABSL_GUARDED_BY(mu_);
  Samples to_offer_ ABSL_GUARDED_BY(mu_), accept_to_thread_ ABSL_GUARDED_BY(mu_),
      delivered_ ABSL_GUARDED_BY(mu_), direct_delivered_ ABSL_GUARDED_BY(mu_),
      escalate_rtt_ ABSL_GUARDED_BY(mu_),
      accept_rtt_ ABSL_GUARDED_BY(mu_), post_rtt_ ABSL_GUARDED_BY(mu_),
      direct_lag_ ABSL_GUARDED_BY(mu_);
};

thread_local Client* Simulation::worker_client_ = nullptr;

void Simulation::BuildRoster() {
  v1::ApplyRosterRequest roster;
  std::vector<std::string> skill_names, language_names;
  for (const auto& [name, w] : s_.skills) skill_names.push_back(name);
  for (const auto& [name, w] : s_.languages) language_names.push_back(name);
  std::mt19937 rng(42);  // the same roster every run
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto add = [&](const std::string& id, const std::string& name, v1::Role role, int i) {
    v1::Person* p = roster.add_people();
    p->set_id(id);
    p->set_display_name(name);
    p->set_role(role);
    p->set_team(absl::StrCat("team", i % 40));
    p->set_site("cph");
    return p;
  };
  for (int i = 0; i < s_.agents.count; ++i) {
    v1::Person* p = add(absl::StrCat("a", i), absl::StrCat("Agent ", i), v1::ROLE_AGENT, i);
    p->add_languages(language_names[i % language_names.size()]);
    agents_.push_back({p->id(), tokens_.For(p->id(), v1::ROLE_AGENT)});
  }
  for (int i = 0; i < s_.seniors.count; ++i) {
    v1::Person* p = add(absl::StrCat("s", i), absl::StrCat("Senior ", i), v1::ROLE_SENIOR, i);
    p->set_capacity(s_.seniors.capacity);
    for (size_t k = 0; k < skill_names.size(); ++k) {
      if (chance(s_.seniors.skill_share) || k == i % skill_names.size()) {
        v1::Skill* skill = p->add_skills();
        skill->set_name(skill_names[k]);
        skill->set_proficiency(2 + static_cast<int>(rng() % 4));
      }
    }
    for (size_t k = 0; k < language_names.size(); ++k) {
      if (chance(s_.seniors.language_share) || k == i % language_names.size()) {
        p->add_languages(language_names[k]);
      }
    }
    seniors_.push_back({p->id(), tokens_.For(p->id(), v1::ROLE_SENIOR)});
  }
  ActAs(tokens_.For("load-admin", v1::ROLE_ADMIN));
  if (auto r = main_client_->ApplyRoster(roster); !r.ok()) {
    std::cerr << "backline-load: applying the roster failed: " << r.status() << "\n";
  }
  absl::MutexLock lock(&mu_);
  agent_busy_.assign(agents_.size(), false);
}

bool Simulation::Connect() {
  for (int c = 0; c < std::max(1, o_.channels); ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", c);  // distinct connections
    channels_.push_back(
        grpc::CreateCustomChannel(o_.target, grpc::InsecureChannelCredentials(), args));
    stubs_.push_back(v1::MessagingService::NewStub(channels_.back()));
  }
  // The direct posts get connections of their own: on the streams' connections they would wait
  // behind a front's limit of concurrent streams per connection (nginx: 128), which the open
  // streams already take.
  for (int c = 0; c < kPostChannels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", 1000 + c);
    post_stubs_.push_back(v1::MessagingService::NewStub(
        grpc::CreateCustomChannel(o_.target, grpc::InsecureChannelCredentials(), args)));
  }
  auto open = [&](bool senior, int i, const Person& p) {
    auto on_event = [this, senior, i](const v1::Event& e) { OnEvent(senior, i, e); };
    if (o_.feeds) {
      streams_.push_back(std::make_unique<FeedStream>(o_.target, p.token, p.session(), on_event,
                                                      [this] { ++connected_; }));
    } else {
      streams_.push_back(std::make_unique<ReaderStream>(
          stubs_[streams_.size() % stubs_.size()].get(), p.token, on_event, p.session()));
    }
  };
  for (size_t i = 0; i < seniors_.size(); ++i) open(true, static_cast<int>(i), seniors_[i]);
  for (size_t i = 0; i < agents_.size(); ++i) open(false, static_cast<int>(i), agents_[i]);
  const int everyone = static_cast<int>(streams_.size());
  const absl::Time deadline = absl::Now() + absl::Seconds(180);
  while (connected_.load() < everyone && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (connected_.load() < everyone) {
    std::cerr << "backline-load: only " << connected_.load() << " of " << everyone
              << " event streams caught up\n";
    return false;
  }
  for (const Person& p : seniors_) {
    ActAs(p.token);
    if (auto r = main_client_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE); !r.ok()) {
      std::cerr << "backline-load: set status of " << p.id << ": " << r.status() << "\n";
    }
  }
  for (int i = 0; i < s_.direct_chat.threads; ++i) {
    ActAs(agents_[2 * i].token);
    auto t = main_client_->OpenDirectThread(agents_[2 * i + 1].id);
    if (!t.ok()) std::cerr << "backline-load: open direct thread: " << t.status() << "\n";
    direct_threads_.push_back(t.ok() ? t->id() : "");
  }
  return true;
}

void Simulation::MeasureFloors(LoadReport* report) {
  Floor floor = MeasureFloor(o_.redis, o_.target, o_.floor_samples);
  floor.grpc_rtt.name = absl::StrCat("floor: gRPC unary round trip (health Check) to ", o_.target);
  report->floor_ms =
      floor.grpc_rtt.samples.QuantileMs(0.5) + floor.redis_rtt.samples.QuantileMs(0.5);
  report->floors.push_back(floor.redis_rtt);
  report->floors.push_back(floor.grpc_rtt);
  // The same, one every 20 ms: what a round trip costs when the cores were idle before it, as
  // they are between the escalations the round-trip count makes one at a time.
  Floor spaced = MeasureFloor(o_.redis, o_.target, 150, absl::Milliseconds(20));
  spaced.redis_rtt.name = "floor: Redis PING round trip, one every 20 ms";
  spaced.grpc_rtt.name = "floor: gRPC unary round trip, one every 20 ms";
  report->floors.push_back(spaced.redis_rtt);
  report->floors.push_back(spaced.grpc_rtt);
  PushFloorServer push(o_.push_floor_port);
  report->floors.push_back(MeasureStreamPushFloor(
      absl::StrCat("127.0.0.1:", push.port()), o_.floor_samples,
      "floor: gRPC server-stream push, server write -> client read (one way)"));
  if (!o_.push_floor_via.empty()) {
    report->floors.push_back(MeasureStreamPushFloor(
        o_.push_floor_via, o_.floor_samples,
        absl::StrCat("floor: the same push through the front ", o_.push_floor_via)));
  }
}

void Simulation::CountRoundTrips(LoadReport* report) {
  // Nobody answers these offers: keep them well within the seniors' capacity, so that each one
  // is offered at once and none lapses before they are cancelled.
  const int n = std::min({o_.round_trip_escalations, static_cast<int>(agents_.size()) - 1,
                          static_cast<int>(seniors_.size()) * s_.seniors.capacity / 2});
  if (n <= 0 || seniors_.empty()) return;
  store::RedisClient redis(o_.redis);
  // One escalation first, so that every script is loaded (a first use costs a NOSCRIPT answer
  // and an EVAL with the source): the count is of the steady state.
  {
    int64_t seq;
    {
      absl::MutexLock lock(&mu_);
      seq = next_seq_;
    }
    Create(/*probe=*/true, n);
    absl::SleepFor(absl::Milliseconds(200));
    Cancel(seq);
    absl::SleepFor(absl::Milliseconds(200));
  }
  MonitorTap tap(o_.redis);
  if (!tap.ok()) {
    std::cerr << "backline-load: cannot MONITOR Redis; round trips not counted\n";
    return;
  }
  // Nothing happens for a while: what Redis sees then is background (timers, leases).
  const absl::Time idle_from = absl::Now();
  const long long reads0 = ReadsProcessed(redis);
  absl::SleepFor(absl::Seconds(2));
  const long long reads1 = ReadsProcessed(redis);
  const absl::Time idle_to = absl::Now();
  // Agents 0 .. n-1 escalate one at a time, twice: first each one's first escalation since the
  // roster was applied (the router reads the requester's roster record), then each one's next
  // (the record is kept until the roster changes). Each pass is taken back before the next, so
  // that the seniors are free. Redis's count of reads covers the escalations, not the cancels.
  const double background_reads =
      (reads1 - reads0 - 1) / absl::ToDoubleSeconds(idle_to - idle_from);  // INFO is a read too
  // `before_cancels` runs once the pass's escalations are made, before they are taken back.
  auto pass = [&](std::vector<EscalationWindow>* windows,
                  const std::function<void()>& before_cancels = nullptr) {
    std::vector<int64_t> made;
    const long long reads_from = ReadsProcessed(redis);
    const absl::Time from = absl::Now();
    for (int k = 0; k < n; ++k) {
      int64_t seq;
      {
        absl::MutexLock lock(&mu_);
        seq = next_seq_;
      }
      const absl::Time start = absl::Now();
      Create(/*probe=*/true, k);
      const absl::Time returned = absl::Now();
      absl::Time offered = absl::InfiniteFuture();
      {
        absl::MutexLock lock(&mu_);
        auto it = escalations_.find(seq);
        if (it == escalations_.end()) continue;
        Escalation* esc = &it->second;
        mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Escalation* e) { return e->offered != absl::InfiniteFuture(); }, esc),
            absl::Seconds(2));
        offered = esc->offered;
      }
      if (offered == absl::InfiniteFuture()) continue;
      windows->push_back({start, offered, returned});
      made.push_back(seq);
      absl::SleepFor(absl::Milliseconds(20));  // let whatever the call set off finish
    }
    const long long reads_to = ReadsProcessed(redis);
    const absl::Time to = absl::Now();
    // Past the last window's end (50 ms after its return) before the cancels start.
    absl::SleepFor(absl::Milliseconds(100));
    if (before_cancels) before_cancels();
    for (int64_t seq : made) Cancel(seq);
    absl::SleepFor(absl::Milliseconds(500));
    if (reads0 < 0 || reads_from < 0 || reads_to < 0 || windows->empty()) return -1.0;
    return std::max(0.0, (reads_to - reads_from - 1 -
                          background_reads * absl::ToDoubleSeconds(to - from)) /
                             static_cast<double>(windows->size()));
  };
  std::vector<EscalationWindow> first, again;
  const double first_reads = pass(&first);
  const double again_reads = pass(&again);
  const std::vector<MonitoredCommand> seen = tap.Stop();
  report->round_trips = AnalyseRoundTrips(seen, again, idle_from, idle_to);
  report->round_trips.reads_per_escalation = again_reads;
  // Once more without MONITOR (which costs Redis a line per command), Redis timing its scripts.
  ScriptClock clock(redis);
  if (clock.ok()) {
    std::vector<EscalationWindow> timed;
    std::map<std::string, Samples> runs;
    pass(&timed, [&] { runs = clock.Stop(); });
    RoundTripReport& r = report->round_trips;
    r.timed_escalations = static_cast<int>(timed.size());
    r.script_times = SummariseScriptTimes(runs, r.timed_escalations);
    Samples to_offer;
    for (const EscalationWindow& w : timed) to_offer.Add(w.offered - w.start);
    r.timed_offer_ms = to_offer.QuantileMs(0.5);
  } else {
    std::cerr << "backline-load: Redis refused CONFIG; its script times not measured\n";
  }
  report->first_round_trips = AnalyseRoundTrips(seen, first, idle_from, idle_to);
  report->first_round_trips.reads_per_escalation = first_reads;
  report->counted_round_trips = !again.empty() && !first.empty();
}

void Simulation::OnEvent(bool senior, int index, const v1::Event& e) {
  if (e.has_caught_up()) {
    ++connected_;
    return;
  }
  absl::MutexLock lock(&mu_);
  if (senior && e.has_offer()) {
    OnOffer(index, e.offer());
  } else if (senior && e.has_offer_closed()) {
    counts_[absl::StrCat("offers closed: ", e.offer_closed().reason())]++;
  } else if (!senior && e.has_escalation_updated()) {
    OnRequesterUpdate(e.escalation_updated().escalation());
  } else if (e.has_message_posted()) {
    OnMessage(senior, index, e.message_posted().message());
  } else if (senior && e.has_notice() && e.notice().code() == "missed_offers") {
    counts_["seniors set on BREAK for missed offers"]++;
    queue_->At(absl::Now() + absl::Milliseconds(s_.seniors.back_after_break_ms),
               [this, index] { BackFromBreak(index); });
  }
}

void Simulation::OnOffer(int senior, const v1::OfferEvent& offer) {
  const absl::Time now = absl::Now();
  int64_t seq = 0;
  if (!ParseQuestion(offer.escalation().question(), &seq)) return;
  auto it = escalations_.find(seq);
  if (it == escalations_.end()) return;
  Escalation& esc = it->second;
  if (esc.id.empty()) esc.id = offer.escalation().id();  // the offer can beat the call's return
  counts_["offers received"]++;
  if (esc.offered == absl::InfiniteFuture()) {
    esc.offered = now;
    if (esc.recorded) to_offer_.Add(now - esc.created);
  } else {
    counts_["offers after the first (re-routed)"]++;
  }
  if (esc.probe || !queue_) return;
  const double x = Uniform();
  if (x < s_.seniors.accept_probability + s_.seniors.decline_probability) {
    const bool accept = x < s_.seniors.accept_probability;
    queue_->At(now + Draw(s_.seniors.answer_after),
               [this, seq, senior, id = offer.offer().offer_id(), accept] {
                 Answer(seq, senior, id, accept);
               });
  } else {
    counts_["offers ignored"]++;
  }
}

void Simulation::OnRequesterUpdate(const v1::Escalation& e) {
  const absl::Time now = absl::Now();
  int64_t seq = 0;
  if (!ParseQuestion(e.question(), &seq)) return;
  auto it = escalations_.find(seq);
  if (it == escalations_.end()) return;
  Escalation& esc = it->second;
  if (e.state() == v1::ESCALATION_STATE_ACCEPTED && !esc.accepted) {
    esc.accepted = true;
    esc.thread = e.thread_id();
    int helper = -1;  // seniors are `s<index>`
    if (absl::SimpleAtoi(absl::string_view(e.helper()).substr(1), &helper) && helper >= 0 &&
        helper < static_cast<int>(seniors_.size())) {
      esc.helper = helper;
    }
    if (esc.recorded && esc.accept_sent != absl::InfiniteFuture()) {
      accept_to_thread_.Add(now - esc.accept_sent);
    }
    if (!queue_) return;
    if (s_.agents.messages_per_escalation > 0) {
      queue_->At(now + Draw(s_.agents.think), [this, seq] { Post(seq, 1); });
    } else {
      queue_->At(now + Draw(s_.agents.think), [this, seq] { Resolve(seq); });
    }
  } else if ((e.state() == v1::ESCALATION_STATE_RESOLVED ||
              e.state() == v1::ESCALATION_STATE_CANCELLED ||
              e.state() == v1::ESCALATION_STATE_EXPIRED) &&
             !esc.finished) {
    esc.finished = true;
    agent_busy_[esc.agent] = false;
    counts_[absl::StrCat("escalations ",
                         absl::AsciiStrToLower(v1::EscalationState_Name(e.state()).substr(17)))]++;
  }
}

void Simulation::OnMessage(bool senior, int index, const v1::Message& m) {
  const absl::Time now = absl::Now();
  const Person& me = senior ? seniors_[index] : agents_[index];
  if (m.sender() == me.id) return;
  int64_t id = 0;
  int k = 0;
  absl::Time sent;
  if (ParseTagged(m.text(), 'd', &id, nullptr, &sent)) {
    if (Recording(sent)) direct_delivered_.Add(now - sent);
    counts_["direct messages delivered"]++;
    return;
  }
  if (!ParseTagged(m.text(), '#', &id, &k, &sent)) return;  // SYSTEM messages and the like
  if (Recording(sent)) delivered_.Add(now - sent);
  counts_["escalation messages delivered"]++;
  if (!queue_) return;
  const int64_t seq = id;
  if (k < s_.agents.messages_per_escalation) {
    queue_->At(now + Draw(s_.agents.think), [this, seq, k] { Post(seq, k + 1); });
  } else {
    queue_->At(now + Draw(s_.agents.think), [this, seq] { Resolve(seq); });
  }
}

void Simulation::Create(bool probe, int agent_hint) {
  int agent = -1;
  int64_t seq = 0;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (probe) {
      agent = agent_hint;
    } else {
      // An agent escalates one question at a time.
      for (int tries = 0; tries < 50 && agent < 0; ++tries) {
        const int a = static_cast<int>(Rng()() % agents_.size());
        if (!agent_busy_[a]) agent = a;
      }
    }
    if (agent < 0) {
      counts_["arrivals dropped: every agent tried had an open escalation"]++;
      return;
    }
    agent_busy_[agent] = true;
    seq = next_seq_++;
    Escalation& esc = escalations_[seq];
    esc.agent = agent;
    esc.created = now;
    esc.recorded = !probe && Recording(now);
    esc.probe = probe;
  }
  v1::CreateEscalationRequest r;
  r.set_question(absl::StrCat("#", seq, " ", kQuestions[seq % std::size(kQuestions)]));
  r.set_language(Pick(s_.languages));
  const std::string priority = Pick(s_.priorities);
  r.set_priority(priority == "urgent" ? v1::PRIORITY_URGENT
                 : priority == "high" ? v1::PRIORITY_HIGH
                                      : v1::PRIORITY_NORMAL);
  auto* skill = r.add_skills();
  skill->set_skill(Pick(s_.skills));
  skill->set_min_proficiency(
      std::uniform_int_distribution<int>(s_.min_proficiency_low, s_.min_proficiency_high)(Rng()));
  const bool cancel = !probe && Uniform() < s_.agents.cancel_probability;
  auto e = Act(agents_[agent].token, "CreateEscalation", &escalate_rtt_,
               [&](Client& c, absl::Time) { return c.Escalate(r); });
  absl::MutexLock lock(&mu_);
  Escalation& esc = escalations_[seq];
  if (!e.ok()) {
    esc.finished = true;
    agent_busy_[agent] = false;
    return;
  }
  esc.id = e->id();
  counts_["escalations created"]++;
  if (esc.recorded) counts_["escalations created in the window"]++;
  if (e->state() == v1::ESCALATION_STATE_QUEUED) counts_["escalations queued at creation"]++;
  if (cancel && queue_) {
    queue_->At(absl::Now() + Draw(s_.agents.cancel_after), [this, seq] { Cancel(seq); });
  }
}

void Simulation::Answer(int64_t seq, int senior, std::string offer_id, bool accept) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    Escalation& esc = escalations_[seq];
    if (esc.finished) {
      counts_["answers not sent: the escalation had ended"]++;
      return;
    }
    id = esc.id;
    if (accept && esc.accept_sent == absl::InfiniteFuture()) {
      esc.accept_sent = absl::Now();
      esc.helper = senior;
    }
  }
  const std::string& token = seniors_[senior].token;
  if (accept) {
    auto r = Act(token, "AcceptOffer", &accept_rtt_,
                 [&](Client& c, absl::Time) { return c.AcceptOffer(id, offer_id); });
    absl::MutexLock lock(&mu_);
    if (r.ok()) {
      counts_["offers accepted"]++;
    } else if (escalations_[seq].helper == senior) {
      escalations_[seq].accept_sent = absl::InfiniteFuture();  // this accept did not win
    }
  } else {
    auto r = Act(token, "DeclineOffer", nullptr,
                 [&](Client& c, absl::Time) { return c.DeclineOffer(id, offer_id, "busy"); });
    if (r.ok()) Count("offers declined");
  }
}

void Simulation::Post(int64_t seq, int k) {
  v1::PostMessageRequest request;
  const Person* sender;
  {
    absl::MutexLock lock(&mu_);
    const Escalation& esc = escalations_[seq];
    if (esc.finished || esc.thread.empty() || esc.helper < 0) return;
    request.set_thread_id(esc.thread);
    // The agent writes the odd messages, the helper the even ones.
    sender = k % 2 == 1 ? &agents_[esc.agent] : &seniors_[esc.helper];
  }
  if (!o_.echo) request.set_session_id(sender->session());
  auto r = Act(sender->token, "PostMessage", &post_rtt_, [&](Client& c, absl::Time start) {
    request.set_text(absl::StrCat("#", seq, ".", k, " ", absl::ToUnixNanos(start), " ",
                                  kQuestions[(seq + k) % std::size(kQuestions)]));
    return c.PostMessage(request);
  });
  if (r.ok()) Count("escalation messages posted");
}

void Simulation::Resolve(int64_t seq) {
  std::string id;
  int helper;
  {
    absl::MutexLock lock(&mu_);
    const Escalation& esc = escalations_[seq];
    if (esc.finished || esc.helper < 0) return;
    id = esc.id;
    helper = esc.helper;
  }
  (void)Act(seniors_[helper].token, "ResolveEscalation", nullptr, [&](Client& c, absl::Time) {
    return c.ResolveEscalation(id, "answered in the thread");
  });
}

void Simulation::Cancel(int64_t seq) {
  std::string id;
  int agent;
  {
    absl::MutexLock lock(&mu_);
    const Escalation& esc = escalations_[seq];
    if (esc.finished || esc.id.empty()) return;
    if (esc.accepted) {
      counts_["cancels not sent: already accepted"]++;
      return;
    }
    id = esc.id;
    agent = esc.agent;
  }
  (void)Act(agents_[agent].token, "CancelEscalation", nullptr,
            [&](Client& c, absl::Time) { return c.CancelEscalation(id, "customer hung up"); });
}

// Direct posts go out with gRPC's callback API: the sender moves on, the completion lands on
// gRPC's thread. Through the client library's blocking Post, 2,000 posts a second held
// the workers for their whole round trip, so the generator's own queue, not the server, set the
// figure (the lag row showed actions running half a second late).
void Simulation::DirectPost(int pair, int k) {
  const std::string& thread = direct_threads_[pair];
  if (thread.empty()) return;
  struct Call {
    grpc::ClientContext context;
    v1::PostMessageRequest request;
    v1::Message response;
    absl::Time start;
  };
  auto* call = new Call;
  call->start = absl::Now();
  const Person& sender = agents_[2 * pair + k % 2];
  call->context.AddMetadata("authorization", absl::StrCat("Bearer ", sender.token));
  call->context.set_deadline(
      absl::ToChronoTime(call->start + absl::Milliseconds(s_.direct_chat.deadline_ms)));
  call->request.set_thread_id(thread);
  call->request.set_text(absl::StrCat("d", pair, " ", absl::ToUnixNanos(call->start), " ",
                                      kQuestions[k % std::size(kQuestions)]));
  call->request.set_client_msg_id(absl::StrCat("load-", pair, "-", k));
  if (!o_.echo) call->request.set_session_id(sender.session());
  in_flight_.fetch_add(1);
  post_stubs_[pair % post_stubs_.size()]->async()->PostMessage(
      &call->context, &call->request, &call->response, [this, call](grpc::Status s) {
        const absl::Status status = FromGrpcStatus(s);
        Called("PostMessage (direct)", status, call->start, &post_rtt_);
        if (status.ok()) Count("direct messages posted");
        delete call;
        in_flight_.fetch_sub(1);
      });
}

void Simulation::BackFromBreak(int senior) {
  (void)Act(seniors_[senior].token, "SetStatus", nullptr, [&](Client& c, absl::Time) {
    return c.SetStatus(v1::PRESENCE_STATUS_AVAILABLE, "back");
  });
}

// Arrival times over [from, to) at `rate` per second: Poisson or evenly spaced.
std::vector<absl::Time> Arrivals(absl::Time from, absl::Time to, double rate, bool poisson) {
  std::vector<absl::Time> out;
  if (rate <= 0) return out;
  std::exponential_distribution<double> gap(rate);
  for (absl::Time t = from; t < to; t += absl::Seconds(poisson ? gap(Rng()) : 1.0 / rate)) {
    out.push_back(t);
  }
  return out;
}

void Simulation::RunLoadPhase(LoadReport* report) {
  const absl::Time start = absl::Now() + absl::Milliseconds(100);
  window_from_ = start + absl::Seconds(s_.warmup_seconds);
  window_to_ = window_from_ + absl::Seconds(s_.duration_seconds);
  queue_->RecordLagFrom(window_from_);
  for (absl::Time t : Arrivals(start, window_to_, s_.agents.escalations_per_second, s_.poisson)) {
    queue_->At(t, [this] { Create(false, 0); });
  }
  // Direct posts do not block, so one thread sends them all at their times: through the action
  // queue each cost a worker's wake-up and a hand-over.
  std::thread direct_pacer;
  if (!direct_threads_.empty()) {
    direct_pacer = std::thread([this, start] {
      const int pairs = static_cast<int>(direct_threads_.size());
      int k = 0;
      for (absl::Time t :
           Arrivals(start, window_to_, s_.direct_chat.messages_per_second, /*poisson=*/false)) {
        const absl::Time now = absl::Now();
        if (t > now) absl::SleepFor(t - now);
        if (t >= window_from_) {
          absl::MutexLock lock(&mu_);
          direct_lag_.Add(absl::Now() - t);
        }
        DirectPost(k % pairs, k / pairs);
        ++k;
      }
    });
  }
  std::vector<ProcessUsage>& usage = report->processes;
  absl::SleepFor(window_from_ - absl::Now());
  for (ProcessUsage& p : usage) p.cpu_start = CpuSeconds(p.pid);
  const MachineCpu machine_start = MachineCpuSeconds();
  absl::SleepFor(window_to_ - absl::Now());
  const MachineCpu machine_end = MachineCpuSeconds();
  const double window_seconds = absl::ToDoubleSeconds(window_to_ - window_from_);
  report->machine_busy_cores = (machine_end.busy - machine_start.busy) / window_seconds;
  report->machine_steal_cores = (machine_end.steal - machine_start.steal) / window_seconds;
  report->cores = Cores();
  for (ProcessUsage& p : usage) {
    p.cpu_end = CpuSeconds(p.pid);
    p.seconds = absl::ToDoubleSeconds(window_to_ - window_from_);
    p.rss_kib = ResidentKiB(p.pid);
    p.peak_rss_kib = PeakResidentKiB(p.pid);
    p.threads = ThreadCount(p.pid);
  }
  report->measured_seconds = absl::ToDoubleSeconds(window_to_ - window_from_);
  if (direct_pacer.joinable()) direct_pacer.join();
  // Let conversations under way finish (bounded), then stop.
  const absl::Time drain_until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < drain_until) {
    {
      absl::MutexLock lock(&mu_);
      if (std::none_of(agent_busy_.begin(), agent_busy_.end(), [](bool b) { return b; })) break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  queue_->Stop();
  // Posts still in flight end by their deadline at the latest.
  while (in_flight_.load() > 0) absl::SleepFor(absl::Milliseconds(10));
}

LoadReport Simulation::Run() {
  LoadReport report;
  report.scenario = s_.name;
  report.target = o_.target;
  report.stream_mode = absl::StrCat(
      o_.feeds ? "EventFeed (client library; a Client and two threads per person)"
               : "callback readers (gRPC callback API; no thread per stream)",
      o_.echo ? "; posts name no session: each comes back on its sender's stream too"
              : "; posts name the sender's desktop session, whose stream is not sent them back");
  main_client_ = std::make_unique<Client>(ActingClientOptions(o_.target));
  main_client_->WaitForConnected(absl::Seconds(10));
  for (const WatchedProcess& w : o_.servers) {
    ProcessUsage u;
    u.label = w.label;
    u.pid = w.pid;
    u.rss_before_kib = ResidentKiB(w.pid);
    report.processes.push_back(u);
  }
  ProcessUsage self;
  self.label = "backline-load (this generator)";
  self.pid = getpid();
  self.rss_before_kib = ResidentKiB(self.pid);
  report.processes.push_back(self);

  std::cerr << "backline-load: " << s_.name << ": applying the roster (" << s_.agents.count
            << " agents, " << s_.seniors.count << " seniors)\n";
  BuildRoster();
  std::cerr << "backline-load: connecting " << agents_.size() + seniors_.size()
            << " event streams\n";
  queue_ = std::make_unique<ActionQueue>(o_.workers, [this] {
    auto c = std::make_unique<Client>(ActingClientOptions(o_.target));
    absl::MutexLock lock(&clients_mu_);
    worker_client_ = c.get();
    worker_clients_.push_back(std::move(c));
  });
  if (!Connect()) {
    absl::MutexLock lock(&mu_);
    counts_["streams that did not connect"] =
        static_cast<long>(streams_.size()) - connected_.load();
  }
  std::cerr << "backline-load: measuring the floor\n";
  MeasureFloors(&report);
  if (o_.round_trip_escalations > 0 && !seniors_.empty()) {
    std::cerr << "backline-load: counting Redis round trips of " << o_.round_trip_escalations
              << " escalations made one at a time\n";
    worker_client_ = main_client_.get();
    CountRoundTrips(&report);
    worker_client_ = nullptr;
  }
  std::cerr << "backline-load: running for " << s_.warmup_seconds << " + " << s_.duration_seconds
            << " s\n";
  RunLoadPhase(&report);
  for (auto& s : streams_) s->Stop();

  absl::MutexLock lock(&mu_);
  const double secs = report.measured_seconds;
  auto row = [&](std::string name, const Samples& samples, double floor) {
    Row r(std::move(name));
    r.samples = samples;
    r.per_second = secs > 0 ? samples.count() / secs : 0;
    r.floor_p50_ms = floor;
    return r;
  };
  const double grpc_floor = report.floors.size() > 1 ? report.floors[1].samples.QuantileMs(0.5) : 0;
  report.figures.push_back(
      row("escalation -> offer on the helper's stream", to_offer_, report.floor_ms));
  report.figures.push_back(row("accept -> the requester's stream shows it ACCEPTED (thread open)",
                               accept_to_thread_, report.floor_ms));
  report.figures.push_back(row("post -> delivered to the other participant (escalation threads)",
                               delivered_, report.floor_ms));
  if (s_.direct_chat.threads > 0) {
    report.figures.push_back(row(absl::StrFormat("post -> delivered (direct threads, %.0f/s paced)",
                                                 s_.direct_chat.messages_per_second),
                                 direct_delivered_, report.floor_ms));
  }
  report.figures.push_back(row("escalate (the agent's round trip)", escalate_rtt_, grpc_floor));
  report.figures.push_back(row("accept (the senior's round trip)", accept_rtt_, grpc_floor));
  report.figures.push_back(row("post (the sender's round trip)", post_rtt_, grpc_floor));
  report.counts = counts_;
  report.errors = errors_;
  long open = 0;
  for (bool b : agent_busy_) open += b;
  report.counts["escalations still open at the end"] = open;
  report.lag.samples = queue_->lag();
  report.lag.samples.Merge(direct_lag_);
  return report;
}

}  // namespace

nlohmann::json LoadReport::ToJson() const {
  nlohmann::json j;
  j["scenario"] = scenario;
  j["target"] = target;
  j["streams"] = stream_mode;
  j["floor_ms"] = floor_ms;
  j["measured_seconds"] = measured_seconds;
  for (const Row& r : floors) j["floors"].push_back(RowJson(r));
  for (const Row& r : figures) j["figures"].push_back(RowJson(r));
  j["generator_lag"] = RowJson(lag);
  j["machine_busy_cores"] = machine_busy_cores;
  j["machine_steal_cores"] = machine_steal_cores;
  j["cores"] = cores;
  j["counts"] = counts;
  j["errors"] = errors;
  for (const ProcessUsage& p : processes) {
    j["processes"].push_back({{"label", p.label},
                              {"pid", p.pid},
                              {"cpu_share_of_one_core", p.CpuShare()},
                              {"rss_before_kib", p.rss_before_kib},
                              {"rss_kib", p.rss_kib},
                              {"peak_rss_kib", p.peak_rss_kib},
                              {"threads", p.threads}});
  }
  if (counted_round_trips) {
    j["redis_round_trips"] = round_trips.ToJson();
    j["redis_round_trips_first"] = first_round_trips.ToJson();
  }
  return j;
}

std::string LoadReport::Markdown() const {
  std::vector<Row> rows = floors;
  rows.insert(rows.end(), figures.begin(), figures.end());
  rows.push_back(lag);
  std::string out = MarkdownTable(rows);
  absl::StrAppend(&out, "\n",
                  absl::StrFormat("Floor for the ratios: %.3f ms (gRPC unary round "
                                  "trip + Redis round trip, medians) for what one "
                                  "person does and another sees; the gRPC round trip "
                                  "alone for a call's own round trip.",
                                  floor_ms),
                  " Streams: ", stream_mode, ".\n\n");
  absl::StrAppend(&out,
                  "| process | CPU, % of one core | resident MiB (before → end, peak) | "
                  "threads |\n| --- | ---: | ---: | ---: |\n");
  for (const ProcessUsage& p : processes) {
    absl::StrAppend(&out, absl::StrFormat("| %s | %.1f | %.0f → %.0f, %.0f | %d |\n", p.label,
                                          100 * p.CpuShare(), p.rss_before_kib / 1024.0,
                                          p.rss_kib / 1024.0, p.peak_rss_kib / 1024.0, p.threads));
  }
  double ours = 0;
  for (const ProcessUsage& p : processes) ours += p.CpuShare();
  absl::StrAppend(
      &out, absl::StrFormat("\nThe whole machine was busy %.0f %% of one core (of %d cores) over "
                            "the window; processes not listed above took %.0f %%; the "
                            "hypervisor's steal (this machine's cores running other machines, "
                            "partly charged to the processes above) was %.0f %%.\n",
                            100 * machine_busy_cores, cores,
                            std::max(0.0, 100 * (machine_busy_cores - ours)),
                            100 * machine_steal_cores));
  absl::StrAppend(&out, "\nWhat happened: ");
  bool first = true;
  for (const auto& [what, n] : counts) {
    absl::StrAppend(&out, first ? "" : "; ", what, " ", n);
    first = false;
  }
  absl::StrAppend(&out, ".\n");
  if (!errors.empty()) {
    absl::StrAppend(&out, "\nErrors by call and code: ");
    first = true;
    for (const auto& [call, codes] : errors) {
      for (const auto& [code, n] : codes) {
        absl::StrAppend(&out, first ? "" : "; ", call, " ", code, " ", n);
        first = false;
      }
    }
    absl::StrAppend(&out, ".\n");
  } else {
    absl::StrAppend(&out, "\nErrors: none.\n");
  }
  if (counted_round_trips) {
    absl::StrAppend(&out,
                    "\nEach requester's next escalation (the router keeps the requesters' roster "
                    "records until the roster changes; the create script checks the roster's "
                    "stamp):\n\n",
                    round_trips.Markdown(),
                    "\nEach requester's first escalation since the roster was applied (the router "
                    "reads the roster record, with the stamp, in one pipeline first):\n\n",
                    first_round_trips.Markdown());
  }
  return out;
}

LoadReport RunLoad(const Scenario& scenario, const LoadOptions& options) {
  Simulation sim(scenario, options);
  return sim.Run();
}

}  // namespace backline::bench
