// backline: the command-line client of Backline.
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  return backline::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cout,
                               std::cerr);
}
