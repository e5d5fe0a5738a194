#include "services/chat/messaging_service.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/validation.h"
#include "services/common/wire.h"

namespace backline::chat {
namespace {

// Article ids key the hit's idempotency and its counters: `[A-Za-z0-9._:/%-]{1,200}`.
absl::Status CheckArticleId(absl::string_view id) {
  const bool ok = !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(c) || absl::string_view("._:/%-").find(c) != absl::string_view::npos;
  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "kb_hit.article_id: \"", id.substr(0, 40),
      "\" is not an article id ([A-Za-z0-9._:/%-]{1,200}; percent-encode other characters)"));
}

absl::Status CheckKbHit(const v1::KbHit& hit) {
  BL_RETURN_IF_ERROR(CheckText("kb_hit.title", hit.title(), 1, 500));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.snippet", hit.snippet(), 0, 4096));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.link", hit.link(), 0, 2048));
  BL_RETURN_IF_ERROR(CheckText("kb_hit.source", hit.source(), 0, 200));
  BL_RETURN_IF_ERROR(CheckArticleId(hit.article_id()));
  if (!std::isfinite(hit.score())) {
    return absl::InvalidArgumentError("kb_hit.score: must be a finite number");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Thread> MessagingService::ReadableThread(const Principal& caller,
                                                            absl::string_view id) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, threads_->Get(id, caller.id));
  const auto& p = thread.participants();
  if (std::find(p.begin(), p.end(), caller.id) != p.end()) return thread;
  if (caller.role == v1::ROLE_SUPERVISOR && thread.kind() == v1::THREAD_KIND_ESCALATION) {
    auto me = roster_->Get(caller.id);
    if (me.ok() && me->site() == thread.site()) return thread;  // read-only until they join
  }
  return absl::PermissionDeniedError(absl::StrCat("you are not a participant of thread ", id));
}

absl::StatusOr<v1::Thread> MessagingService::OwnThread(const Principal& caller,
                                                       absl::string_view id) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, ReadableThread(caller, id));
  const auto& p = thread.participants();
  if (std::find(p.begin(), p.end(), caller.id) == p.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("you may read thread ", id, " but not write to it; join it first"));
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
        // A bot posts each article into a thread once, whatever key it sends: a bot restarted
        // mid-run, or two copies of it, cannot post the same hit twice.
        if (m.kind() == v1::MESSAGE_KIND_KB_HIT) {
          m.set_client_msg_id(absl::StrCat("kb:", m.kb_hit().article_id()));
        }
        if (!request.session_id().empty()) {
          BL_RETURN_IF_ERROR(CheckToken("session_id", request.session_id()));
        }
        bool duplicate = false;
        const PostRate* rate = caller.role == v1::ROLE_BOT ? &config_.bot_posts : nullptr;
        BL_ASSIGN_OR_RETURN(*response,
                            threads_->Post(std::move(m), request.session_id(), rate, &duplicate));
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

grpc::ServerUnaryReactor* MessagingService::ListThreads(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in,
                                                        grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListThreadsRequest, v1::ListThreadsResponse>(
      context, in, out,
      [&](const v1::ListThreadsRequest& request,
          v1::ListThreadsResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const int limit = request.page_size() == 0 ? 50 : request.page_size();
        if (limit < 1 || limit > 500) {
          return absl::InvalidArgumentError("page_size: must be within 1..500");
        }
        BL_ASSIGN_OR_RETURN(*response,
                            threads_->ListThreads(caller.id, limit, request.page_token()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::OpenThread(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* in,
                                                       grpc::ByteBuffer* out) {
  return UnaryCall<v1::OpenThreadRequest, v1::Thread>(
      context, in, out,
      [&](const v1::OpenThreadRequest& request, v1::Thread* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        if (request.person().empty() == request.team().empty()) {
          return absl::InvalidArgumentError("give either person or team");
        }
        auto me = roster_->Get(caller.id);
        if (absl::IsNotFound(me.status())) {
          return absl::PermissionDeniedError(
              absl::StrCat("\"", caller.id, "\" is not on the roster"));
        }
        if (!me.ok()) return me.status();
        if (!request.person().empty()) {
          BL_RETURN_IF_ERROR(CheckName("person", request.person()));
          if (request.person() == caller.id) {
            return absl::InvalidArgumentError("person: a direct thread needs someone else");
          }
          BL_RETURN_IF_ERROR(roster_->Get(request.person()).status());
          BL_ASSIGN_OR_RETURN(*response, threads_->OpenDirect(caller.id, request.person()));
          return absl::OkStatus();
        }
        BL_ASSIGN_OR_RETURN(std::vector<std::string> members, roster_->TeamMembers(request.team()));
        if (members.empty()) {
          return absl::NotFoundError(absl::StrCat("no team ", request.team()));
        }
        if (request.team() != me->team()) {
          BL_ASSIGN_OR_RETURN(v1::Person member, roster_->Get(members.front()));
          if (caller.role != v1::ROLE_SUPERVISOR || member.site() != me->site()) {
            return absl::PermissionDeniedError(
                absl::StrCat("team ", request.team(), " is not yours"));
          }
        }
        BL_ASSIGN_OR_RETURN(*response, threads_->OpenTeam(request.team(), me->site(), caller.id));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::JoinThread(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* in,
                                                       grpc::ByteBuffer* out) {
  return UnaryCall<v1::JoinThreadRequest, v1::Thread>(
      context, in, out,
      [&](const v1::JoinThreadRequest& request, v1::Thread* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        if (caller.role != v1::ROLE_SUPERVISOR) {
          return absl::PermissionDeniedError("only supervisors join threads");
        }
        BL_RETURN_IF_ERROR(ReadableThread(caller, request.thread_id()).status());
        BL_ASSIGN_OR_RETURN(*response, threads_->Join(request.thread_id(), caller.id));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::EditMessage(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* in,
                                                        grpc::ByteBuffer* out) {
  return UnaryCall<v1::EditMessageRequest, v1::Message>(
      context, in, out,
      [&](const v1::EditMessageRequest& request, v1::Message* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_RETURN_IF_ERROR(CheckText("text", request.text(), 1, config_.max_text_bytes));
        BL_RETURN_IF_ERROR(OwnThread(caller, request.thread_id()).status());
        BL_ASSIGN_OR_RETURN(*response, threads_->Change(request.thread_id(), request.seq(),
                                                        caller.id, request.text(), false));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::DeleteMessage(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* in,
                                                          grpc::ByteBuffer* out) {
  return UnaryCall<v1::DeleteMessageRequest, v1::Message>(
      context, in, out,
      [&](const v1::DeleteMessageRequest& request, v1::Message* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_RETURN_IF_ERROR(OwnThread(caller, request.thread_id()).status());
        BL_ASSIGN_OR_RETURN(
            *response, threads_->Change(request.thread_id(), request.seq(), caller.id, "", true));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::MarkRead(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* in,
                                                     grpc::ByteBuffer* out) {
  return UnaryCall<v1::MarkReadRequest, v1::Thread>(
      context, in, out,
      [&](const v1::MarkReadRequest& request, v1::Thread* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_RETURN_IF_ERROR(OwnThread(caller, request.thread_id()).status());
        BL_ASSIGN_OR_RETURN(*response,
                            threads_->MarkRead(request.thread_id(), caller.id, request.seq()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MessagingService::SetTyping(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* in,
                                                      grpc::ByteBuffer* out) {
  return UnaryCall<v1::SetTypingRequest, v1::SetTypingResponse>(
      context, in, out,
      [&](const v1::SetTypingRequest& request, v1::SetTypingResponse*) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_RETURN_IF_ERROR(OwnThread(caller, request.thread_id()).status());
        return threads_->Typing(request.thread_id(), caller.id);
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

grpc::ServerUnaryReactor* MessagingService::RateKnowledgeHit(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* in,
                                                             grpc::ByteBuffer* out) {
  return UnaryCall<v1::RateKnowledgeHitRequest, v1::KnowledgeHitRating>(
      context, in, out,
      [&](const v1::RateKnowledgeHitRequest& request,
          v1::KnowledgeHitRating* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        if (caller.role == v1::ROLE_BOT) {
          return absl::PermissionDeniedError("bots cannot mark knowledge-base hits");
        }
        if (request.seq() < 1) return absl::InvalidArgumentError("seq: must be at least 1");
        BL_ASSIGN_OR_RETURN(v1::Thread thread, OwnThread(caller, request.thread_id()));
        BL_ASSIGN_OR_RETURN(*response, threads_->RateHit(thread, request.seq(), caller.id,
                                                         request.helpful()));
        return absl::OkStatus();
      });
}

}  // namespace backline::chat
