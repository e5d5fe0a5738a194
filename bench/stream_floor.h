// The machine's floor for streaming: a message sent over an open gRPC stream to a server in this
// process that writes it straight back (no work), round trip.
#pragma once

#include "bench/stats.h"

namespace backline::bench {

Row MeasureStreamEchoFloor(int n);

}  // namespace backline::bench
