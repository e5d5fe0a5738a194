// gRPC adapter of messaging: posts, history, threads and the per-user event stream.
#pragma once

#include "backline/v1/messaging.grpc.pb.h"
#include "services/chat/event_hub.h"
#include "services/chat/redis_thread_store.h"
#include "services/common/auth.h"
#include "services/common/wire.h"
#include "services/presence/redis_roster_store.h"

namespace backline::chat {

struct MessagingConfig {
  // Longest message text accepted, in bytes.
  size_t max_text_bytes = 16 * 1024;
  // How fast each bot may post (people are not limited).
  PostRate bot_posts;
};

// Every method is registered raw so that requests are parsed by ParseRequest (wire.h).
using MessagingServiceBase =
    WithRawMethods<v1::MessagingService::Service,
                   v1::MessagingService::WithRawCallbackMethod_PostMessage,
                   v1::MessagingService::WithRawCallbackMethod_ListMessages,
                   v1::MessagingService::WithRawCallbackMethod_GetThread,
                   v1::MessagingService::WithRawCallbackMethod_ListThreads,
                   v1::MessagingService::WithRawCallbackMethod_OpenThread,
                   v1::MessagingService::WithRawCallbackMethod_JoinThread,
                   v1::MessagingService::WithRawCallbackMethod_EditMessage,
                   v1::MessagingService::WithRawCallbackMethod_DeleteMessage,
                   v1::MessagingService::WithRawCallbackMethod_MarkRead,
                   v1::MessagingService::WithRawCallbackMethod_SetTyping,
                   v1::MessagingService::WithRawCallbackMethod_Subscribe,
                   v1::MessagingService::WithRawCallbackMethod_RateKnowledgeHit>::type;

class MessagingService final : public MessagingServiceBase {
 public:
  MessagingService(const Authenticator* auth, RedisThreadStore* threads,
                   presence::RedisRosterStore* roster, EventHub* hub, MessagingConfig config)
      : auth_(auth), threads_(threads), roster_(roster), hub_(hub), config_(config) {}

  grpc::ServerUnaryReactor* PostMessage(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* in,
                                         grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetThread(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListThreads(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* OpenThread(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* JoinThread(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* EditMessage(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* DeleteMessage(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* MarkRead(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* SetTyping(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in) override;
  grpc::ServerUnaryReactor* RateKnowledgeHit(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* in,
                                             grpc::ByteBuffer* out) override;

 private:
  // The thread (with the caller's read state), if `caller` may read it: participants, and
  // supervisors for escalation threads of their site. NOT_FOUND if it does not exist,
  // PERMISSION_DENIED for anyone else.
  absl::StatusOr<v1::Thread> ReadableThread(const Principal& caller, absl::string_view id);
  // The thread, if `caller` takes part in it (may write to it).
  absl::StatusOr<v1::Thread> OwnThread(const Principal& caller, absl::string_view id);

  const Authenticator* auth_;
  RedisThreadStore* threads_;
  presence::RedisRosterStore* roster_;
  EventHub* hub_;
  MessagingConfig config_;
};

}  // namespace backline::chat
