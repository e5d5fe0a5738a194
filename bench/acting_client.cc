#include "bench/acting_client.h"

#include "absl/time/clock.h"

namespace backline::bench {
namespace {

thread_local std::string current_token;

}  // namespace

void ActAs(const std::string& token) { current_token = token; }

ClientOptions ActingClientOptions(const std::string& target) {
  ClientOptions o;
  o.target = target;
  o.deadline = absl::Seconds(30);
  o.token_provider = [] { return current_token; };
  return o;
}

std::string TokenIssuer::For(const std::string& id, v1::Role role) const {
  return *codec_.Issue({id, role}, absl::Hours(2), absl::Now());
}

}  // namespace backline::bench
