// The shape of every unary handler in Backline: run the body (which authenticates, validates
// and does the work, returning absl::Status) and finish the call with the mapped status.
//
//   return Respond(context, [&]() -> absl::Status { ...; return absl::OkStatus(); });
#pragma once

#include <grpcpp/support/server_callback.h>
#include <grpcpp/server_context.h>

#include "services/common/status.h"

namespace backline {

template <typename Body>
grpc::ServerUnaryReactor* Respond(grpc::CallbackServerContext* context, Body&& body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(body()));
  return reactor;
}

}  // namespace backline
