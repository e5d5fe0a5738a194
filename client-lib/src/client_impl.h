// What Client, EventFeed and the raw streams share inside the library: the channel, the stubs,
// per-call contexts, the status mapping and the backoff. Not installed.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backline/client.h"
#include "backline/v1/escalations.grpc.pb.h"
#include "backline/v1/messaging.grpc.pb.h"
#include "backline/v1/presence.grpc.pb.h"
#include "backline/v1/roster.grpc.pb.h"

namespace backline::internal {

absl::Status FromGrpc(const grpc::Status& s);

// Jittered exponential backoff: the n-th wait is initial·2^(n-1), capped at max, times a
// random factor in [0.8, 1.2], clamped to [initial, max]. The jitter spreads the reconnects of
// many desktops after a server restart. Not thread-safe.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max);
  // The wait before the next attempt; each call doubles the base.
  absl::Duration Next();
  void Reset() { failures_ = 0; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  int failures_ = 0;
};

// This thread's random engine, seeded once from std::random_device: seeding one per call cost
// more than the call's own work on a busy desktop.
std::mt19937_64& ThreadRandom();

// Shared by a Client and every feed and stream opened from it (they may outlive the Client).
// Immutable after construction, so thread-safe.
struct ClientImpl {
  explicit ClientImpl(ClientOptions o);

  // A context carrying the token; `deadline` InfiniteFuture for none (streams).
  std::unique_ptr<grpc::ClientContext> Context(absl::Time deadline) const;
  std::unique_ptr<grpc::ClientContext> Context() const {
    return Context(absl::Now() + options.deadline);
  }

  // Runs one unary call: `method` is a stub member function pointer.
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(Stub* stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request) const {
    auto ctx = Context();
    Resp response;
    grpc::Status s = (stub->*method)(ctx.get(), request, &response);
    if (!s.ok()) return FromGrpc(s);
    return response;
  }

  // Runs a call whose request carries an idempotency key, so that sending it again is safe:
  // retried with backoff while the server cannot be reached, within the deadline (see
  // Client::PostMessage).
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> CallIdempotent(Stub* stub,
                                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                                                   Resp*),
                                      const Req& request) const {
    const absl::Time deadline = absl::Now() + options.deadline;
    Backoff backoff(options.initial_backoff, options.max_backoff);
    while (true) {
      auto ctx = Context(deadline);
      Resp response;
      grpc::Status s = (stub->*method)(ctx.get(), request, &response);
      if (s.ok()) return response;
      if (!options.retry_idempotent_calls || s.error_code() != grpc::StatusCode::UNAVAILABLE ||
          ServerAnswered(deadline)) {
        return FromGrpc(s);
      }
      const absl::Duration wait = backoff.Next();
      if (absl::Now() + wait >= deadline) return FromGrpc(s);
      absl::SleepFor(wait);
    }
  }

  // After an UNAVAILABLE: true when it came from a server that is connected (its Redis is
  // down), false when the connection is gone or never came up. The channel leaves READY as soon
  // as its connection breaks, but that news may trail the failed call by a moment, hence the
  // short wait for a change.
  bool ServerAnswered(absl::Time deadline) const;

  const ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RosterService::Stub> roster;
  std::unique_ptr<v1::PresenceService::Stub> presence;
  std::unique_ptr<v1::EscalationService::Stub> escalations;
  std::unique_ptr<v1::MessagingService::Stub> messaging;
};

}  // namespace backline::internal
