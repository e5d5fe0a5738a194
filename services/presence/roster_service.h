// gRPC adapter of the roster: authenticates, authorises (only admins apply), calls the store.
#pragma once

#include "backline/v1/roster.grpc.pb.h"
#include "services/common/auth.h"
#include "services/presence/redis_roster_store.h"

namespace backline::presence {

class RosterService final : public v1::RosterService::CallbackService {
 public:
  RosterService(const Authenticator* auth, RedisRosterStore* roster)
      : auth_(auth), roster_(roster) {}

  grpc::ServerUnaryReactor* ApplyRoster(grpc::CallbackServerContext* context,
                                        const v1::ApplyRosterRequest* request,
                                        v1::ApplyRosterResponse* response) override;
  grpc::ServerUnaryReactor* GetPerson(grpc::CallbackServerContext* context,
                                      const v1::GetPersonRequest* request,
                                      v1::Person* response) override;
  grpc::ServerUnaryReactor* ListPeople(grpc::CallbackServerContext* context,
                                       const v1::ListPeopleRequest* request,
                                       v1::ListPeopleResponse* response) override;

 private:
  const Authenticator* auth_;
  RedisRosterStore* roster_;
};

}  // namespace backline::presence
