// Requests and responses as raw bytes at the edge of every service.
//
// gRPC's generated handlers answer a request that does not parse with a bare UNIMPLEMENTED — and
// a proto3 `string` field holding invalid UTF-8 does not parse. Backline registers every method
// as a raw method instead and parses here, so that such a request gets INVALID_ARGUMENT naming
// the field (`question: invalid UTF-8`), like every other bad input.
//
//   grpc::ServerUnaryReactor* Svc::GetPerson(grpc::CallbackServerContext* c,
//                                            const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
//     return UnaryCall<v1::GetPersonRequest, v1::Person>(c, in, out,
//         [&](const v1::GetPersonRequest& req, v1::Person* resp) -> absl::Status { ... });
//   }
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "services/common/status.h"

namespace backline {

// Parses `buffer` into `message`. INVALID_ARGUMENT naming the field for invalid UTF-8 in a
// string field, or saying the bytes are not a valid request at all.
absl::Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message);

// Serializes `message` into `buffer`.
absl::Status SerializeToBuffer(const google::protobuf::Message& message, grpc::ByteBuffer* buffer);

// The shape of every unary handler: parse, run `body` (which authenticates, validates and does
// the work), serialize the response, finish with the mapped status.
template <typename Request, typename Response, typename Body>
grpc::ServerUnaryReactor* UnaryCall(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                    Body&& body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Request request;
  Response response;
  absl::Status status = ParseRequest(*in, &request);
  if (status.ok()) status = body(request, &response);
  if (status.ok()) status = SerializeToBuffer(response, out);
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The service base with every method in `Methods` registered raw: WithRawMethods<S::Service,
// S::WithRawCallbackMethod_A, S::WithRawCallbackMethod_B>::type is
// S::WithRawCallbackMethod_A<S::WithRawCallbackMethod_B<S::Service>>.
template <typename Service, template <typename> class... Methods>
struct WithRawMethods;
template <typename Service>
struct WithRawMethods<Service> {
  using type = Service;
};
template <typename Service, template <typename> class First, template <typename> class... Rest>
struct WithRawMethods<Service, First, Rest...> {
  using type = First<typename WithRawMethods<Service, Rest...>::type>;
};

// A server stream refused before it started (bad request, bad token, not allowed, no Redis).
class RejectedStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit RejectedStream(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace backline
