#include "bench/floor.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"

namespace backline::bench {

Floor MeasureFloor(const store::RedisOptions& redis_options, const std::string& target, int n,
                   absl::Duration gap) {
  Floor floor;
  floor.redis_rtt.name = "floor: Redis PING round trip";
  floor.grpc_rtt.name = "floor: gRPC unary round trip (health Check)";
  store::RedisClient redis(redis_options);
  for (int i = 0; i < n; ++i) {
    if (gap > absl::ZeroDuration()) absl::SleepFor(gap);
    const absl::Time start = absl::Now();
    (void)redis.Command({"PING"});
    floor.redis_rtt.samples.Add(absl::Now() - start);
  }
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::GenericStub stub(channel);
  for (int i = 0; i < n; ++i) {
    if (gap > absl::ZeroDuration()) absl::SleepFor(gap);
    grpc::ClientContext ctx;
    grpc::Slice empty("");  // HealthCheckRequest{} encodes to no bytes
    grpc::ByteBuffer request(&empty, 1), response;
    grpc::Status status;
    absl::Mutex mu;
    bool done = false;
    const absl::Time start = absl::Now();
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     absl::MutexLock lock(&mu);
                     status = std::move(s);
                     done = true;
                   });
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
    floor.grpc_rtt.samples.Add(absl::Now() - start);
  }
  return floor;
}

}  // namespace backline::bench
