#include "bench/stream_floor.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstring>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace backline::bench {
namespace {

// A client call of any method, driven one operation at a time on its own completion queue.
class BlockingCall {
 public:
  BlockingCall(grpc::GenericStub* stub, const std::string& method)
      : call_(stub->PrepareCall(&ctx_, method, &cq_)) {
    call_->StartCall(this);
    ok_ = Wait();
  }
  ~BlockingCall() {
    if (ok_) {
      call_->WritesDone(this);
      Wait();
    } else {
      ctx_.TryCancel();
    }
    grpc::Status status;
    call_->Finish(&status, this);
    Wait();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  bool ok() const { return ok_; }
  bool Write(const grpc::ByteBuffer& message) {
    if (ok_) call_->Write(message, this);
    return ok_ = ok_ && Wait();
  }
  bool Read(grpc::ByteBuffer* message) {
    if (ok_) call_->Read(message, this);
    return ok_ = ok_ && Wait();
  }
  // Ends the call from this side at once, without waiting for the server to finish.
  void Cancel() {
    ctx_.TryCancel();
    ok_ = false;
  }

 private:
  bool Wait() {
    void* tag;
    bool ok = false;
    return cq_.Next(&tag, &ok) && ok;
  }
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool ok_ = false;
};

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

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
    BlockingCall call(&stub, "/bench.Echo/Ping");
    grpc::Slice slice(std::string(64, 'x'));
    grpc::ByteBuffer ping(&slice, 1), pong;
    for (int i = 0; i < n + 100 && call.ok(); ++i) {
      const absl::Time start = absl::Now();
      if (!call.Write(ping) || !call.Read(&pong)) break;
      if (i >= 100) row.samples.Add(absl::Now() - start);  // after warm-up
    }
  }
  server->Shutdown();
  return row;
}

namespace {

constexpr char kPushMethod[] = "/backline.bench.Floor/Push";

// The client's request is the number of messages to push; each message is the server's clock
// (Unix nanoseconds, 8 bytes) just before the write. Writes are paced one per millisecond, so
// the figure is a latency, not a queue.
class PushReactor : public grpc::ServerGenericBidiReactor {
 public:
  PushReactor() { StartRead(&request_); }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    int n = 0;
    if (!absl::SimpleAtoi(Flatten(request_), &n) || n <= 0) return Finish(grpc::Status::OK);
    pusher_ = std::thread([this, n] { Push(n); });
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) stop_ = true;
  }
  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (pusher_.joinable()) {
      // OnDone may run on the pusher thread itself, right after its Finish.
      if (pusher_.get_id() == std::this_thread::get_id()) {
        pusher_.detach();
      } else {
        pusher_.join();
      }
    }
    delete this;
  }

 private:
  // Waits until the previous write is done (or the call ended); false when it ended.
  bool AwaitWritable() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &PushReactor::Writable));
    return !stop_;
  }
  bool Writable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || stop_; }

  // On the pusher thread. No lock is held across StartWrite or Finish, which may call back.
  void Push(int n) {
    for (int i = 0; i < n; ++i) {
      absl::SleepFor(absl::Milliseconds(1));
      if (!AwaitWritable()) return;
      const int64_t now = absl::ToUnixNanos(absl::Now());
      char bytes[sizeof now];
      std::memcpy(bytes, &now, sizeof now);
      grpc::Slice slice(bytes, sizeof bytes);
      message_ = grpc::ByteBuffer(&slice, 1);
      {
        absl::MutexLock lock(&mu_);
        writing_ = true;
      }
      StartWrite(&message_);
    }
    if (AwaitWritable()) Finish(grpc::Status::OK);
  }

  grpc::ByteBuffer request_;
  grpc::ByteBuffer message_;
  std::thread pusher_;
  mutable absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

class PushFloorServer::Service : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    if (ctx->method() != kPushMethod) {
      class Refuse : public grpc::ServerGenericBidiReactor {
       public:
        Refuse() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "")); }
        void OnDone() override { delete this; }
      };
      return new Refuse();
    }
    return new PushReactor();
  }
};

PushFloorServer::PushFloorServer(int port) : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
}

PushFloorServer::~PushFloorServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

Row MeasureStreamPushFloor(const std::string& target, int n, const std::string& name) {
  constexpr int kWarmUp = 50;
  Row row(name);
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
    return row;
  }
  grpc::GenericStub stub(channel);
  BlockingCall call(&stub, kPushMethod);
  grpc::Slice count(absl::StrCat(n + kWarmUp));
  grpc::ByteBuffer request(&count, 1), message;
  call.Write(request);
  for (int i = 0; i < n + kWarmUp && call.Read(&message); ++i) {
    const absl::Time received = absl::Now();
    const std::string bytes = Flatten(message);
    int64_t sent = 0;
    if (bytes.size() != sizeof sent) continue;
    std::memcpy(&sent, bytes.data(), sizeof sent);
    if (i >= kWarmUp) row.samples.Add(received - absl::FromUnixNanos(sent));
  }
  call.Cancel();
  return row;
}

}  // namespace backline::bench
