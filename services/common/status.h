// The one mapping between absl::Status (used everywhere inside Backline) and grpc::Status (used
// only at the edges: service adapters and the client library).
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace backline {

// Maps an absl::Status to the gRPC status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Maps a gRPC status back to absl::Status (client side).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace backline
