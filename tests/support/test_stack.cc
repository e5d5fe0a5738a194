#include "tests/support/test_stack.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "services/common/principal.h"
#include "services/common/token.h"

#ifndef BACKLINE_TEST_DATA_DIR
#error "BACKLINE_TEST_DATA_DIR must be defined"
#endif

namespace backline::testing {

v1::Person MakePerson(const std::string& id, v1::Role role, std::map<std::string, int> skills,
                      std::vector<std::string> languages, int capacity, const std::string& team,
                      const std::string& site) {
  v1::Person p;
  p.set_id(id);
  p.set_display_name(id);
  p.set_role(role);
  p.set_team(team);
  p.set_site(site);
  for (const auto& [name, level] : skills) {
    v1::Skill* s = p.add_skills();
    s->set_name(name);
    s->set_proficiency(level);
  }
  for (const std::string& l : languages) p.add_languages(l);
  p.set_capacity(capacity >= 0 ? capacity : (IsHelperRole(role) ? 2 : 0));
  return p;
}

std::vector<v1::Person> TeamFirstRoster() {
  return {MakePerson("anna", v1::ROLE_AGENT),
          MakePerson("ida", v1::ROLE_SENIOR, {{"fraud", 3}}, {"da"}),
          MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da"}, -1, "aar-billing")};
}

ServerConfig TestConfig(const RedisServer& redis) {
  ServerConfig c;
  c.listen = "127.0.0.1:0";
  c.redis = redis.client_options();
  c.token_secret = kTestSecret;
  c.shutdown_grace = absl::Milliseconds(200);
  return c;
}

TestStack::TestStack(const RedisServer& redis, unsigned components)
    : TestStack(TestConfig(redis), components) {}

TestStack::TestStack(ServerConfig config, unsigned components)
    : stack_(std::move(config), components) {
  auto port = stack_.Start();
  if (!port.ok()) throw std::runtime_error(std::string(port.status().message()));
}

TestStack::~TestStack() { stack_.Shutdown(); }

std::string TestStack::target() const { return absl::StrCat("127.0.0.1:", stack_.port()); }

std::string TestStack::Token(const std::string& id, v1::Role role, absl::Duration ttl) const {
  return *TokenCodec(kTestSecret).Issue({id, role}, ttl, absl::Now());
}

std::unique_ptr<Client> TestStack::ClientFor(const std::string& id, v1::Role role) const {
  ClientOptions o;
  o.target = target();
  o.token = Token(id, role);
  o.deadline = absl::Seconds(5);
  return std::make_unique<Client>(o);
}

void TestStack::ApplyRoster(const std::vector<v1::Person>& people) const {
  v1::ApplyRosterRequest r;
  for (const v1::Person& p : people) *r.add_people() = p;
  auto resp = ClientFor("root", v1::ROLE_ADMIN)->ApplyRoster(r);
  if (!resp.ok()) throw std::runtime_error(std::string(resp.status().message()));
}

std::string ReadTestData(const std::string& relative_path) {
  const std::string path = absl::StrCat(BACKLINE_TEST_DATA_DIR, "/", relative_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing test data " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<v1::Event> WaitForEvent(EventStream& stream,
                                      const std::function<bool(const v1::Event&)>& pred,
                                      absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    auto ev = stream.Next(end - absl::Now());
    if (!ev.ok()) return std::nullopt;
    if (ev->has_value() && pred(**ev)) return **ev;
  }
  return std::nullopt;
}

bool Eventually(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

}  // namespace backline::testing
