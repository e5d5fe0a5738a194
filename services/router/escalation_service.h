// gRPC adapter of the routing engine: authenticates each call and hands it to the Router.
#pragma once

#include "backline/v1/escalations.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/wire.h"
#include "services/router/router.h"

namespace backline::router {

// Every method is registered raw so that requests are parsed by ParseRequest (wire.h).
using EscalationServiceBase = WithRawMethods<
    v1::EscalationService::Service, v1::EscalationService::WithRawCallbackMethod_CreateEscalation,
    v1::EscalationService::WithRawCallbackMethod_GetEscalation,
    v1::EscalationService::WithRawCallbackMethod_AcceptOffer,
    v1::EscalationService::WithRawCallbackMethod_DeclineOffer,
    v1::EscalationService::WithRawCallbackMethod_CancelEscalation,
    v1::EscalationService::WithRawCallbackMethod_ResolveEscalation,
    v1::EscalationService::WithRawCallbackMethod_ReopenEscalation,
    v1::EscalationService::WithRawCallbackMethod_TransferEscalation,
    v1::EscalationService::WithRawCallbackMethod_InviteExpert,
    v1::EscalationService::WithRawCallbackMethod_ListWaiting,
    v1::EscalationService::WithRawCallbackMethod_TakeEscalation,
    v1::EscalationService::WithRawCallbackMethod_ExplainRouting,
    v1::EscalationService::WithRawCallbackMethod_GetStats,
    v1::EscalationService::WithRawCallbackMethod_ListEscalations,
    v1::EscalationService::WithRawCallbackMethod_SubscribeEscalations>::type;

class EscalationService final : public EscalationServiceBase {
 public:
  EscalationService(const Authenticator* auth, Router* router) : auth_(auth), router_(router) {}

  grpc::ServerUnaryReactor* CreateEscalation(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* in,
                                             grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetEscalation(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* AcceptOffer(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* DeclineOffer(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* in,
                                         grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* CancelEscalation(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* in,
                                             grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ResolveEscalation(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* in,
                                              grpc::ByteBuffer* out) override;

  grpc::ServerUnaryReactor* ReopenEscalation(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* in,
                                             grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* TransferEscalation(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* in,
                                               grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* InviteExpert(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* in,
                                         grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListWaiting(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* TakeEscalation(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* in,
                                           grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ExplainRouting(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* in,
                                           grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListEscalations(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* in,
                                            grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* SubscribeEscalations(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* in,
                                                 grpc::ByteBuffer* out) override;

 private:
  const Authenticator* auth_;
  Router* router_;
};

}  // namespace backline::router
