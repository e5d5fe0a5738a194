// The `backline` command: every user operation of Backline from a terminal or a script.
// RunCli is the whole program; main() only passes argv and the standard streams.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace backline::cli {

// Exit codes scripts can rely on.
enum ExitCode {
  kOk = 0,
  kError = 1,        // anything not listed below
  kUsage = 2,        // bad command line
  kNotFound = 3,     // no such person, escalation or thread
  kDenied = 4,       // bad or missing token, or not allowed
  kConflict = 5,     // wrong state: offer gone, already resolved, ...
  kInvalid = 6,      // the server refused the input
  kUnavailable = 7,  // server or its storage unreachable, or the deadline passed
  kTimeout = 8,      // waited for an event that did not come
};

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace backline::cli
