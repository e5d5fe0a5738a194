// gRPC adapter of messaging: posts, history, threads and the per-user event stream.
#pragma once

#include "backline/v1/messaging.grpc.pb.h"
#include "services/chat/event_hub.h"
#include "services/chat/redis_thread_store.h"
#include "services/common/auth.h"

namespace backline::chat {

struct MessagingConfig {
  // Longest message text accepted, in bytes.
  size_t max_text_bytes = 16 * 1024;
};

// Every method is registered raw so that requests are parsed by ParseRequest (wire.h).
using MessagingServiceBase = v1::MessagingService::WithRawCallbackMethod_PostMessage<
    v1::MessagingService::WithRawCallbackMethod_ListMessages<
        v1::MessagingService::WithRawCallbackMethod_GetThread<
            v1::MessagingService::WithRawCallbackMethod_Subscribe<v1::MessagingService::Service>>>>;

class MessagingService final : public MessagingServiceBase {
 public:
  MessagingService(const Authenticator* auth, RedisThreadStore* threads, EventHub* hub,
                   MessagingConfig config)
      : auth_(auth), threads_(threads), hub_(hub), config_(config) {}

  grpc::ServerUnaryReactor* PostMessage(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* in,
                                         grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetThread(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in) override;

 private:
  // The thread, if `caller` may read it: NOT_FOUND if it does not exist, PERMISSION_DENIED if
  // the caller takes no part in it.
  absl::StatusOr<v1::Thread> ReadableThread(const Principal& caller, absl::string_view id);

  const Authenticator* auth_;
  RedisThreadStore* threads_;
  EventHub* hub_;
  MessagingConfig config_;
};

}  // namespace backline::chat
