// gRPC adapter of presence: who may set whose status, heartbeats from the caller's desktops,
// and who is available for a skill.
#pragma once

#include "backline/v1/presence.grpc.pb.h"
#include "services/common/auth.h"
#include "services/presence/presence_watch.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"

namespace backline::presence {

// Every method is registered raw so that requests are parsed by ParseRequest (wire.h).
using PresenceServiceBase = v1::PresenceService::WithRawCallbackMethod_SetStatus<
    v1::PresenceService::WithRawCallbackMethod_Heartbeat<
        v1::PresenceService::WithRawCallbackMethod_GetPresence<
            v1::PresenceService::WithRawCallbackMethod_ListAvailable<
                v1::PresenceService::WithRawCallbackMethod_WatchPresence<
                    v1::PresenceService::Service>>>>>;

class PresenceService final : public PresenceServiceBase {
 public:
  PresenceService(const Authenticator* auth, RedisRosterStore* roster, RedisPresenceStore* presence,
                  PresenceWatchHub* watch)
      : auth_(auth), roster_(roster), presence_(presence), watch_(watch) {}

  grpc::ServerUnaryReactor* SetStatus(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerUnaryReactor* GetPresence(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* in, grpc::ByteBuffer* out) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchPresence(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* in) override;
  grpc::ServerUnaryReactor* ListAvailable(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) override;

 private:
  // OK when `caller` may change `target`'s status: themselves; a team leader for their team; a
  // supervisor for their site; an admin for anyone.
  absl::Status CheckMayChangeStatus(const Principal& caller, absl::string_view target);

  const Authenticator* auth_;
  RedisRosterStore* roster_;
  RedisPresenceStore* presence_;
  PresenceWatchHub* watch_;
};

}  // namespace backline::presence
