// gRPC adapter of the routing engine: authenticates each call and hands it to the Router.
#pragma once

#include "backline/v1/escalations.grpc.pb.h"
#include "services/common/auth.h"
#include "services/router/router.h"

namespace backline::router {

class EscalationService final : public v1::EscalationService::CallbackService {
 public:
  EscalationService(const Authenticator* auth, Router* router) : auth_(auth), router_(router) {}

  grpc::ServerUnaryReactor* CreateEscalation(grpc::CallbackServerContext* context,
                                             const v1::CreateEscalationRequest* request,
                                             v1::Escalation* response) override;
  grpc::ServerUnaryReactor* GetEscalation(grpc::CallbackServerContext* context,
                                          const v1::GetEscalationRequest* request,
                                          v1::Escalation* response) override;
  grpc::ServerUnaryReactor* AcceptOffer(grpc::CallbackServerContext* context,
                                        const v1::AcceptOfferRequest* request,
                                        v1::Escalation* response) override;
  grpc::ServerUnaryReactor* DeclineOffer(grpc::CallbackServerContext* context,
                                         const v1::DeclineOfferRequest* request,
                                         v1::Escalation* response) override;
  grpc::ServerUnaryReactor* CancelEscalation(grpc::CallbackServerContext* context,
                                             const v1::CancelEscalationRequest* request,
                                             v1::Escalation* response) override;
  grpc::ServerUnaryReactor* ResolveEscalation(grpc::CallbackServerContext* context,
                                              const v1::ResolveEscalationRequest* request,
                                              v1::Escalation* response) override;

 private:
  const Authenticator* auth_;
  Router* router_;
};

}  // namespace backline::router
