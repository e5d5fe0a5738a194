#include "bench/stream_floor.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace backline::bench {
namespace {

// Writes every message it reads straight back.
class EchoService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { StartRead(&buffer_); }
      void OnReadDone(bool ok) override {
        if (!ok) return Finish(grpc::Status::OK);
        StartWrite(&buffer_);
      }
      void OnWriteDone(bool ok) override {
        if (!ok) return Finish(grpc::Status::OK);
        StartRead(&buffer_);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer buffer_;
    };
    return new Reactor();
  }
};

}  // namespace

Row MeasureStreamEchoFloor(int n) {
  Row row("floor: gRPC stream message echoed back (round trip)");
  EchoService echo;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&echo);
  auto server = builder.BuildAndStart();
  {
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::CompletionQueue cq;
    grpc::ClientContext ctx;
    auto call = stub.PrepareCall(&ctx, "/bench.Echo/Ping", &cq);
    void* tag;
    bool ok = false;
    call->StartCall(reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    grpc::Slice slice(std::string(64, 'x'));
    grpc::ByteBuffer ping(&slice, 1), pong;
    for (int i = 0; i < n + 100 && ok; ++i) {
      const absl::Time start = absl::Now();
      call->Write(ping, reinterpret_cast<void*>(2));
      cq.Next(&tag, &ok);
      call->Read(&pong, reinterpret_cast<void*>(3));
      cq.Next(&tag, &ok);
      if (i >= 100) row.samples.Add(absl::Now() - start);  // after warm-up
    }
    call->WritesDone(reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }
  server->Shutdown();
  return row;
}

}  // namespace backline::bench
