#include "services/presence/roster_service.h"

#include "services/common/validation.h"
#include "services/common/wire.h"

namespace backline::presence {

grpc::ServerUnaryReactor* RosterService::ApplyRoster(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* in,
                                                     grpc::ByteBuffer* out) {
  return UnaryCall<v1::ApplyRosterRequest, v1::ApplyRosterResponse>(
      context, in, out,
      [&](const v1::ApplyRosterRequest& request,
          v1::ApplyRosterResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        if (caller.role != v1::ROLE_ADMIN) {
          return absl::PermissionDeniedError("only admins apply the roster");
        }
        BL_ASSIGN_OR_RETURN(*response, roster_->Apply(request.people(), request.dry_run()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* RosterService::GetPerson(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* in,
                                                   grpc::ByteBuffer* out) {
  return UnaryCall<v1::GetPersonRequest, v1::Person>(
      context, in, out,
      [&](const v1::GetPersonRequest& request, v1::Person* response) -> absl::Status {
        BL_RETURN_IF_ERROR(auth_->Authenticate(*context).status());
        BL_ASSIGN_OR_RETURN(*response, roster_->Get(request.id()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* RosterService::ListPeople(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* in,
                                                    grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListPeopleRequest, v1::ListPeopleResponse>(
      context, in, out,
      [&](const v1::ListPeopleRequest& request, v1::ListPeopleResponse* response) -> absl::Status {
        BL_RETURN_IF_ERROR(auth_->Authenticate(*context).status());
        BL_ASSIGN_OR_RETURN(*response, roster_->List(request));
        return absl::OkStatus();
      });
}

}  // namespace backline::presence
