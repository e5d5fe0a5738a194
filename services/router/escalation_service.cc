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

}  // namespace backline::router
