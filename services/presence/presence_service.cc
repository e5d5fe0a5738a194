#include "services/presence/presence_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/validation.h"
#include "services/common/wire.h"
#include "services/presence/watch_scope.h"

namespace backline::presence {

absl::Status PresenceService::CheckMayChangeStatus(const Principal& caller,
                                                   absl::string_view target) {
  if (caller.id == target || caller.role == v1::ROLE_ADMIN) return absl::OkStatus();
  const absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("only ", target,
                   ", their team leader, a supervisor of their site or an "
                   "admin may change their status"));
  if (caller.role != v1::ROLE_TEAM_LEADER && caller.role != v1::ROLE_SUPERVISOR) return denied;
  BL_ASSIGN_OR_RETURN(v1::Person subject, roster_->Get(target));
  auto me = roster_->Get(caller.id);
  if (!me.ok()) return denied;
  if (caller.role == v1::ROLE_TEAM_LEADER && me->team() == subject.team()) {
    return absl::OkStatus();
  }
  if (caller.role == v1::ROLE_SUPERVISOR && me->site() == subject.site()) {
    return absl::OkStatus();
  }
  return denied;
}

grpc::ServerUnaryReactor* PresenceService::SetStatus(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* in,
                                                     grpc::ByteBuffer* out) {
  return UnaryCall<v1::SetStatusRequest, v1::Presence>(
      context, in, out,
      [&](const v1::SetStatusRequest& request, v1::Presence* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const std::string target = request.person().empty() ? caller.id : request.person();
        BL_RETURN_IF_ERROR(CheckName("person", target));
        BL_RETURN_IF_ERROR(CheckMayChangeStatus(caller, target));
        BL_ASSIGN_OR_RETURN(*response,
                            presence_->SetStatus(target, request.status(), request.reason(),
                                                 /*by_self=*/target == caller.id));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PresenceService::Heartbeat(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* in,
                                                     grpc::ByteBuffer* out) {
  return UnaryCall<v1::HeartbeatRequest, v1::HeartbeatResponse>(
      context, in, out,
      [&](const v1::HeartbeatRequest& request, v1::HeartbeatResponse* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        BL_ASSIGN_OR_RETURN(*response->mutable_presence(),
                            presence_->Heartbeat(caller.id, request.session_id()));
        *response->mutable_liveness_timeout() =
            google::protobuf::util::TimeUtil::MillisecondsToDuration(
                absl::ToInt64Milliseconds(presence_->config().liveness_timeout));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PresenceService::GetPresence(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* in,
                                                       grpc::ByteBuffer* out) {
  return UnaryCall<v1::GetPresenceRequest, v1::Presence>(
      context, in, out,
      [&](const v1::GetPresenceRequest& request, v1::Presence* response) -> absl::Status {
        BL_ASSIGN_OR_RETURN(Principal caller, auth_->Authenticate(*context));
        const std::string target = request.person().empty() ? caller.id : request.person();
        BL_ASSIGN_OR_RETURN(*response, presence_->Get(target));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* PresenceService::ListAvailable(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return UnaryCall<v1::ListAvailableRequest, v1::ListAvailableResponse>(
      context, in, out,
      [&](const v1::ListAvailableRequest& request,
          v1::ListAvailableResponse* response) -> absl::Status {
        BL_RETURN_IF_ERROR(auth_->Authenticate(*context).status());
        BL_RETURN_IF_ERROR(CheckName("skill", request.skill()));
        const int min = request.min_proficiency() == 0 ? 1 : request.min_proficiency();
        if (min < 1 || min > 5) {
          return absl::InvalidArgumentError(
              absl::StrCat("min_proficiency: ", min, " is outside 1..5"));
        }
        const int limit = request.page_size() == 0 ? 50 : request.page_size();
        if (limit < 1 || limit > 1000) {
          return absl::InvalidArgumentError("page_size: must be within 1..1000");
        }
        HelperRequirements req;
        req.skills.emplace_back(request.skill(), min);
        if (!request.language().empty()) {
          BL_RETURN_IF_ERROR(CanonicalLanguage("language", request.language(), &req.language));
        }
        BL_ASSIGN_OR_RETURN(std::vector<Candidate> candidates,
                            presence_->SelectCandidates(req, limit));
        std::vector<std::string> ids;
        for (const Candidate& c : candidates) ids.push_back(c.id);
        BL_ASSIGN_OR_RETURN(std::vector<v1::Person> people, roster_->GetMany(ids));
        BL_ASSIGN_OR_RETURN(std::vector<v1::Presence> presences, presence_->GetMany(ids));
        std::map<std::string, v1::Person*> person_by_id;
        for (v1::Person& p : people) person_by_id[p.id()] = &p;
        std::map<std::string, v1::Presence*> presence_by_id;
        for (v1::Presence& p : presences) presence_by_id[p.person()] = &p;
        for (const Candidate& c : candidates) {
          auto person = person_by_id.find(c.id);
          auto presence = presence_by_id.find(c.id);
          if (person == person_by_id.end() || presence == presence_by_id.end()) continue;
          v1::AvailablePerson* entry = response->add_people();
          *entry->mutable_person() = std::move(*person->second);
          *entry->mutable_presence() = std::move(*presence->second);
          entry->set_proficiency(c.proficiency);
        }
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* PresenceService::WatchPresence(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* in) {
  v1::WatchPresenceRequest request;
  if (absl::Status st = ParseRequest(*in, &request); !st.ok()) return new RejectedStream(st);
  auto caller = auth_->Authenticate(*context);
  if (!caller.ok()) return new RejectedStream(caller.status());
  auto scope = ResolveWatchScope(*roster_, *caller, request);
  if (!scope.ok()) return new RejectedStream(scope.status());
  return watch_->Open(std::move(*scope));
}

}  // namespace backline::presence
