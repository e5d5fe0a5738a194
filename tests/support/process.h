// Runs a program as a child process, for tests of the real binaries.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace backline::testing {

// A fresh directory /tmp/<prefix>-XXXXXX, removed with all it holds on destruction. Declare it
// before the members that use it, so that it goes after them.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole of a file's bytes; "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

struct ProcessResult {
  int exit_code = -1;  // -1 when killed for exceeding the timeout
  std::string out;
  std::string err;
  absl::Duration elapsed;
};

// Runs `argv` with extra environment variables and `input` on stdin; kills it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& input = "", absl::Duration timeout = absl::Seconds(30));

// A program left running in the background (e.g. a server); killed with SIGKILL on destruction.
// With `output_path`, its stdout and stderr go to files `output_path` and `output_path`.err
// (read them with Output and Errors while it runs).
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env = {},
                             const std::string& output_path = "");
  ~BackgroundProcess();
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits; returns the exit status (as from waitpid) or -1.
  int Stop(int signal, absl::Duration timeout = absl::Seconds(10));
  // What it wrote so far to stdout and to stderr, with `output_path`.
  std::string Output() const;
  std::string Errors() const;

 private:
  pid_t pid_ = -1;
  std::string output_path_;
};

}  // namespace backline::testing
