#include "services/common/clock.h"

namespace backline {

const Clock& SystemClock::Instance() {
  static const SystemClock* const clock = new SystemClock();
  return *clock;
}

}  // namespace backline
