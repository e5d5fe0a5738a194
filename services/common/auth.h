// Authenticates each call from its own `authorization: Bearer <token>` metadata. Identity is
// derived per call, never cached on the connection (all calls of a connection share its
// AuthContext) and never taken from a request field.
#pragma once

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "services/common/principal.h"
#include "services/common/token.h"

namespace backline {

class Authenticator {
 public:
  explicit Authenticator(const TokenCodec* codec) : codec_(codec) {}

  // UNAUTHENTICATED when the metadata is missing, not a bearer token, or the token is invalid.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;

 private:
  const TokenCodec* codec_;
};

}  // namespace backline
