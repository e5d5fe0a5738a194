#include "services/router/escalation_service.h"

#include "services/common/validation.h"
#include "services/common/wire.h"

namespace backline::router {

grpc::ServerUnaryReactor* EscalationService::CreateEscalation(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* in,
                                                              grpc::ByteBuffer* out) {
  return UnaryCall<v1::CreateEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::CreateEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Create(caller, request));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::GetEscalation(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* in,
                                                           grpc::ByteBuffer* out) {
  return UnaryCall<v1::GetEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::GetEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Get(caller, request.id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::AcceptOffer(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return UnaryCall<v1::AcceptOfferRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::AcceptOfferRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response,
                            router_->Accept(caller, request.escalation_id(), request.offer_id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::DeclineOffer(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* in,
                                                          grpc::ByteBuffer* out) {
  return UnaryCall<v1::DeclineOfferRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::DeclineOfferRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Decline(caller, request.escalation_id(),
                                                        request.offer_id(), request.reason()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::CancelEscalation(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* in,
                                                              grpc::ByteBuffer* out) {
  return UnaryCall<v1::CancelEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::CancelEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Cancel(caller, request.id(), request.reason()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::ResolveEscalation(grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* in,
                                                               grpc::ByteBuffer* out) {
  return UnaryCall<v1::ResolveEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::ResolveEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response,
                            router_->Resolve(caller, request.id(), request.resolution()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::ReopenEscalation(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* in,
                                                              grpc::ByteBuffer* out) {
  return UnaryCall<v1::ReopenEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::ReopenEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Reopen(caller, request.id(), request.reason()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::TransferEscalation(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
  return UnaryCall<v1::TransferEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::TransferEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Transfer(caller, request.id(), request));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::InviteExpert(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* in,
                                                          grpc::ByteBuffer* out) {
  return UnaryCall<v1::InviteExpertRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::InviteExpertRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Invite(caller, request.id(), request.expert()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::TakeEscalation(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* in,
                                                            grpc::ByteBuffer* out) {
  return UnaryCall<v1::TakeEscalationRequest, v1::Escalation>(
      context, in, out,
      [&](const v1::TakeEscalationRequest& request, v1::Escalation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Take(caller, request.id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::ExplainRouting(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* in,
                                                            grpc::ByteBuffer* out) {
  return UnaryCall<v1::ExplainRoutingRequest, v1::RoutingExplanation>(
      context, in, out,
      [&](const v1::ExplainRoutingRequest& request,
          v1::RoutingExplanation* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Explain(caller, request.id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::GetStats(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* in,
                                                      grpc::ByteBuffer* out) {
  return UnaryCall<v1::GetStatsRequest, v1::Stats>(
      context, in, out,
      [&](const v1::GetStatsRequest& request, v1::Stats* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->Stats(caller, request));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::SubscribeEscalations(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
  return UnaryCall<v1::SubscribeEscalationsRequest, v1::BotSubscription>(
      context, in, out,
      [&](const v1::SubscribeEscalationsRequest& request,
          v1::BotSubscription* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response, router_->SubscribeBot(caller, request));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::ListWaiting(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListWaitingRequest, v1::ListWaitingResponse>(
      context, in, out,
      [&](const v1::ListWaitingRequest& request,
          v1::ListWaitingResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const int limit = request.page_size() == 0 ? 20 : request.page_size();
        if (limit < 1 || limit > 100) {
          return absl::InvalidArgumentError("page_size: must be within 1..100");
        }
        BL_ASSIGN_OR_RETURN(*response, router_->ListWaiting(caller, limit));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* EscalationService::ListEscalations(grpc::CallbackServerContext* context,
                                                             const grpc::ByteBuffer* in,
                                                             grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListEscalationsRequest, v1::ListEscalationsResponse>(
      context, in, out,
      [&](const v1::ListEscalationsRequest& request,
          v1::ListEscalationsResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const int limit = request.page_size() == 0 ? 50 : request.page_size();
        if (limit < 1 || limit > 200) {
          return absl::InvalidArgumentError("page_size: must be within 1..200");
        }
        BL_ASSIGN_OR_RETURN(*response, router_->List(caller, request.scope(), limit));
        return absl::OkStatus();
      });
}

}  // namespace backline::router
