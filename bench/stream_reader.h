// An event stream read with gRPC's callback API — no thread per stream — for benchmarks that
// hold thousands of them.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backline/v1/messaging.grpc.pb.h"

namespace backline::bench {

class StreamReader : public grpc::ClientReadReactor<v1::Event> {
 public:
  using OnEvent = std::function<void(const v1::Event&)>;
  // `session`: the desktop session the stream is (empty: one the server names).
  StreamReader(v1::MessagingService::Stub* stub, const std::string& token, OnEvent on_event,
               const std::string& session = "")
      : on_event_(std::move(on_event)) {
    ctx_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    request_.set_session_id(session);
    stub->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    on_event_(event_);
    StartRead(&event_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  void Stop() {
    ctx_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  v1::Event event_;
  OnEvent on_event_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace backline::bench
