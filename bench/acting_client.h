// One backline::Client that acts as many people: every call carries the token that the calling
// thread chose last with ActAs, so a benchmark can speak for thousands of people over a few
// connections. Tokens are signed with the server's secret, like `backline admin token` does.
//
//   TokenIssuer tokens(secret);
//   Client client(ActingClientOptions(target));
//   ActAs(tokens.For("soren", v1::ROLE_SENIOR));
//   client.AcceptOffer(id);
#pragma once

#include <string>

#include "backline/client.h"
#include "services/common/token.h"

namespace backline::bench {

// Sets the token of the calling thread's next calls.
void ActAs(const std::string& token);

// Options for a client whose calls carry the calling thread's token (30 s deadlines).
ClientOptions ActingClientOptions(const std::string& target);

class TokenIssuer {
 public:
  explicit TokenIssuer(std::string secret) : codec_(std::move(secret)) {}
  // A token for `id` as `role`, valid for two hours.
  std::string For(const std::string& id, v1::Role role) const;

 private:
  TokenCodec codec_;
};

}  // namespace backline::bench
