// backline-server: the all-in-one server — presence, routing and messaging on one port.
#include "services/runtime/stack.h"

int main(int argc, char** argv) {
  return backline::RunServerMain(argc, argv, backline::Stack::kAll, "backline-server");
}
