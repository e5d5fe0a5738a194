#include "services/chat/messaging_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/validation.h"
#include "services/common/wire.h"

namespace backline::chat {
namespace {

absl::Status CheckKbHit(const v1::KbHit& hit) {
  BL_RETURN_IF_ERROR(CheckText("kb_hit.title", hit.title(), 1, 500));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.snippet", hit.snippet(), 0, 4096));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.link", hit.link(), 0, 2048));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.source", hit.source(), 0, 200));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.article_id", hit.article_id(), 0, 200));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Thread> MessagingService::ReadableThread(const Principal& caller,
                                                            absl::string_view id) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, threads_->Get(id));
  const auto& p = thread.participants();
  if (std::find(p.begin(), p.end(), caller.id) == p.end()) {
    return absl::PermissionDeniedError(absl::StrCat("you are not a participant of thread ", id));
  }
  return thread;
}

grpc::ServerUnaryReactor* MessagingService::PostMessage(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in,
                                                        grpc::ByteBuffer* out) {
  return UnaryCall<v1::PostMessageRequest, v1::Message>(
      context, in, out,
      [&](const v1::PostMessageRequest& request, v1::Message* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        v1::Message m;
        m.set_thread_id(request.thread_id());
        m.set_sender(caller.id);
        switch (request.kind()) {
          case v1::MESSAGE_KIND_UNSPECIFIED:
          case v1::MESSAGE_KIND_TEXT:
            m.set_kind(v1::MESSAGE_KIND_TEXT);
            BL_RETURN_IF_ERROR(CheckText("text", request.text(), 1, config_.max_text_bytes));
            break;
          case v1::MESSAGE_KIND_KB_HIT:
            if (caller.role != v1::ROLE_BOT) {
              return absl::PermissionDeniedError("only bots post knowledge-base hits");
            }
            m.set_kind(v1::MESSAGE_KIND_KB_HIT);
            BL_RETURN_IF_ERROR(CheckText("text", request.text(), 0, config_.max_text_bytes));
            BL_RETURN_IF_ERROR(CheckKbHit(request.kb_hit()));
            *m.mutable_kb_hit() = request.kb_hit();
            break;
          default:
            return absl::InvalidArgumentError("kind: only TEXT (or KB_HIT for bots) can be posted");
        }
        m.set_text(request.text());
        if (!request.client_msg_id().empty()) {
          BL_RETURN_IF_ERROR(CheckToken("client_msg_id", request.client_msg_id()));
          m.set_client_msg_id(request.client_msg_id());
        }
        bool duplicate = false;
        BL_ASSIGN_OR_RETURN(*response, threads_->Post(std::move(m), &duplicate));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::ListMessages(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListMessagesRequest, v1::ListMessagesResponse>(
      context, in, out,
      [&](const v1::ListMessagesRequest& request,
          v1::ListMessagesResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const int limit = request.page_size() == 0 ? 50 : request.page_size();
        if (limit < 1 || limit > 500) {
          return absl::InvalidArgumentError("page_size: must be within 1..500");
        }
        if (request.after_seq() < 0 || request.before_seq() < 0) {
          return absl::InvalidArgumentError("after_seq/before_seq: must not be negative");
        }
        BL_ASSIGN_OR_RETURN(v1::Thread thread, ReadableThread(caller, request.thread_id()));
        BL_ASSIGN_OR_RETURN(std::vector<v1::Message> messages,
                            threads_->List(thread.id(), request.after_seq(), request.before_seq(),
                                           limit, /*newest=*/request.before_seq() > 0));
        for (v1::Message& m : messages) *response->add_messages() = std::move(m);
        response->set_last_seq(thread.last_seq());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::GetThread(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* in,
                                                      grpc::ByteBuffer* out) {
  return UnaryCall<v1::GetThreadRequest, v1::Thread>(
      context, in, out,
      [&](const v1::GetThreadRequest& request, v1::Thread* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, ReadableThread(caller, request.id()));
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* MessagingService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* in) {
  v1::SubscribeRequest request;
  if (absl::Status st = ParseRequest(*in, &request); !st.ok()) return new RejectedStream(st);
  auto caller = auth_->Authenticate(*context);
  if (!caller.ok()) return new RejectedStream(caller.status());
  const std::string& cursor = request.after_cursor();
  if (!cursor.empty() && !store::IsValidCursor(cursor)) {
    return new RejectedStream(absl::InvalidArgumentError(
        "after_cursor: not a cursor of this stream (use the cursor of the last event received)"));
  }
  if (!request.session_id().empty() && !IsValidToken(request.session_id())) {
    return new RejectedStream(CheckToken("session_id", request.session_id()));
  }
  return hub_->Open(*caller, cursor, request.session_id());
}

}  // namespace backline::chat
