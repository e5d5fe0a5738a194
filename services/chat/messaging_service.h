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

class MessagingService final : public v1::MessagingService::CallbackService {
 public:
  MessagingService(const Authenticator* auth, RedisThreadStore* threads, EventHub* hub,
                   MessagingConfig config)
      : auth_(auth), threads_(threads), hub_(hub), config_(config) {}

  grpc::ServerUnaryReactor* PostMessage(grpc::CallbackServerContext* context,
                                        const v1::PostMessageRequest* request,
                                        v1::Message* response) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const v1::ListMessagesRequest* request,
                                         v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* GetThread(grpc::CallbackServerContext* context,
                                      const v1::GetThreadRequest* request,
                                      v1::Thread* response) override;
  grpc::ServerWriteReactor<v1::Event>* Subscribe(grpc::CallbackServerContext* context,
                                                 const v1::SubscribeRequest* request) override;

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
