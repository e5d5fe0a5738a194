// backline-chat: hosts only the chat service (see backline-server for all in one process).
#include "services/runtime/stack.h"

int main(int argc, char** argv) {
  return backline::RunServerMain(argc, argv, backline::Stack::kChat, "backline-chat");
}
