// An in-process Backline server for tests: the real Stack on port 0 against a real Redis, and
// clients that talk to it over real gRPC on loopback with tokens for any person and role.
//
//   TestStack stack(SharedRedis());
//   stack.ApplyRoster({Person("anna", v1::ROLE_AGENT, ...), ...});
//   auto anna = stack.ClientFor("anna", v1::ROLE_AGENT);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backline/client.h"
#include "services/runtime/stack.h"
#include "tests/support/redis_server.h"

namespace backline::testing {

inline constexpr char kTestSecret[] = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

// A person for a test roster. `skills` like {{"billing", 4}}.
v1::Person MakePerson(const std::string& id, v1::Role role, std::map<std::string, int> skills = {},
                      std::vector<std::string> languages = {"da", "en"}, int capacity = -1,
                      const std::string& team = "cph-billing", const std::string& site = "cph");

// The test configuration for a stack on `redis` (port 0, short timeouts).
ServerConfig TestConfig(const RedisServer& redis);

// A routing policy under which escalations wait: the requester's team's seniors first, everyone
// else only after an hour.
inline constexpr char kTeamFirstPolicy[] = R"({"groups": {"default": {"rings": [
    {"name": "team seniors", "roles": ["senior"], "scope": "team"},
    {"name": "everyone", "open_after_seconds": 3600}]}}})";
// Under kTeamFirstPolicy a billing question of anna's (agent, cph-billing) waits: her team's
// senior ida has only fraud; soren (senior, billing 4, Danish) is in aar-billing.
std::vector<v1::Person> TeamFirstRoster();

class TestStack {
 public:
  explicit TestStack(const RedisServer& redis, unsigned components = Stack::kAll);
  TestStack(ServerConfig config, unsigned components);
  ~TestStack();

  std::string target() const;
  int port() const { return stack_.port(); }
  Stack& stack() { return stack_; }

  std::string Token(const std::string& id, v1::Role role,
                    absl::Duration ttl = absl::Hours(1)) const;
  std::unique_ptr<Client> ClientFor(const std::string& id, v1::Role role) const;
  // Applies the roster as an admin; fails the test on error.
  void ApplyRoster(const std::vector<v1::Person>& people) const;

 private:
  Stack stack_;
};

// Reads a file of tests/data (e.g. "seeds/nl-callcenter.txt").
std::string ReadTestData(const std::string& relative_path);

// Waits up to `timeout` for an event matching `pred` on `stream`, skipping others.
std::optional<v1::Event> WaitForEvent(EventStream& stream,
                                      const std::function<bool(const v1::Event&)>& pred,
                                      absl::Duration timeout = absl::Seconds(5));

// Polls `pred` every 50 ms until it holds (true) or `timeout` has passed (false).
bool Eventually(const std::function<bool()>& pred, absl::Duration timeout = absl::Seconds(30));

}  // namespace backline::testing
