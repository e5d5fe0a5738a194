// The machine's floor for streaming, measured by servers inside the benchmark process that do no
// work: a message sent over an open gRPC stream and written straight back (round trip), and a
// message a server pushes on a stream it holds open, from the server's write to the client's
// read (one way, one clock: both ends are in this process).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "bench/stats.h"

namespace backline::bench {

Row MeasureStreamEchoFloor(int n);

// Serves `/backline.bench.Floor/Push` on 127.0.0.1:`port` (0: any free port): a stream that
// pushes time-stamped messages to its client, one every millisecond. A front (nginx) may route
// that method here to measure its own cost on pushes.
class PushFloorServer {
 public:
  explicit PushFloorServer(int port = 0);
  ~PushFloorServer();
  int port() const { return port_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// Pushes `n` messages from a PushFloorServer reached through `target` (the server itself, or a
// front that routes to it) and returns the one-way latencies. An empty row when the stream
// could not be opened.
Row MeasureStreamPushFloor(const std::string& target, int n, const std::string& name);

}  // namespace backline::bench
