// backline-presence: hosts only the presence service (see backline-server for all in one process).
#include "services/runtime/stack.h"

int main(int argc, char** argv) {
  return backline::RunServerMain(argc, argv, backline::Stack::kPresence, "backline-presence");
}
