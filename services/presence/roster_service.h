// gRPC adapter of the roster: authenticates, authorises (only admins apply), calls the store.
#pragma once

#include "backline/v1/roster.grpc.pb.h"
#include "services/common/auth.h"
#include "services/presence/redis_roster_store.h"

namespace backline::presence {

// Every method is registered raw so that requests are parsed by ParseRequest (wire.h).
using RosterServiceBase = v1::RosterService::WithRawCallbackMethod_ApplyRoster<
    v1::RosterService::WithRawCallbackMethod_GetPerson<
        v1::RosterService::WithRawCallbackMethod_ListPeople<v1::RosterService::Service>>>;

class RosterService final : public RosterServiceBase {
 public:
  RosterService(const Authenticator* auth, RedisRosterStore* roster)
      : auth_(auth), roster_(roster) {}

  grpc::ServerUnaryReactor* ApplyRoster(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* ListPeople(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;

 private:
  const Authenticator* auth_;
  RedisRosterStore* roster_;
};

}  // namespace backline::presence
