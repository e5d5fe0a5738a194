#include "tests/support/tmux.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/process.h"

namespace backline::testing {
namespace {

const char* TmuxBinary() {
  for (const char* path : {"/usr/bin/tmux", "/usr/local/bin/tmux"}) {
    if (access(path, X_OK) == 0) return path;
  }
  throw std::runtime_error("tmux is not installed (scripts/lib.sh installs it)");
}

// `s` quoted for the shell that tmux runs the window's command with.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

TmuxSession::TmuxSession(const std::string& dir, int width, int height,
                         const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  static std::atomic<int> sessions{0};
  socket_ = absl::StrCat("backline-test-", getpid(), "-", sessions++);
  config_ = absl::StrCat(dir, "/", socket_, ".conf");
  // No status bar: the window is all the program's. The window stays when the program ends.
  std::ofstream(config_) << "set -g status off\n"
                            "set -g remain-on-exit on\n"
                            "set -g history-limit 5000\n"
                            "set -sg escape-time 0\n";
  std::map<std::string, std::string> vars = {{"LANG", "C.UTF-8"}, {"TERM", "tmux-256color"}};
  for (const auto& [k, v] : env) vars[k] = v;
  std::vector<std::string> args = {
      "new-session", "-d", "-s", "test", "-x", absl::StrCat(width), "-y", absl::StrCat(height)};
  // Through env(1): tmux sets TERM in the window itself, after any -e. The shell around the
  // program writes its exit status to a file: tmux 3.3 now and then loses it.
  status_file_ = absl::StrCat(dir, "/", socket_, ".status");
  std::string command = "/usr/bin/env";
  for (const auto& [k, v] : vars)
    absl::StrAppend(&command, " ", ShellQuote(absl::StrCat(k, "=", v)));
  for (const std::string& a : argv) absl::StrAppend(&command, " ", ShellQuote(a));
  absl::StrAppend(&command, "; echo $? > ", ShellQuote(status_file_ + ".new"), " && mv ",
                  ShellQuote(status_file_ + ".new"), " ", ShellQuote(status_file_));
  args.push_back(command);
  Run(args);
}

TmuxSession::~TmuxSession() { RunProcess(Tmux({"kill-server"})); }

std::vector<std::string> TmuxSession::Tmux(std::vector<std::string> args) const {
  std::vector<std::string> argv = {TmuxBinary(), "-u", "-L", socket_, "-f", config_};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string TmuxSession::Run(const std::vector<std::string>& args) {
  // The tmux client gets a clean environment of its own: not inside another tmux, UTF-8.
  ProcessResult r = RunProcess(Tmux(args), {{"TMUX", ""}, {"LANG", "C.UTF-8"}});
  if (r.exit_code != 0) {
    throw std::runtime_error(absl::StrCat("tmux ", args.front(), " failed: ", r.err));
  }
  return r.out;
}

void TmuxSession::Keys(const std::vector<std::string>& keys) {
  std::vector<std::string> args = {"send-keys", "-t", "test"};
  args.insert(args.end(), keys.begin(), keys.end());
  Run(args);
}

void TmuxSession::Type(const std::string& text) { Run({"send-keys", "-t", "test", "-l", text}); }

std::string TmuxSession::Screen() { return Run({"capture-pane", "-p", "-t", "test"}); }

std::string TmuxSession::Transcript() {
  return Run({"capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "test"});
}

bool TmuxSession::WaitForScreen(const std::function<bool(const std::string&)>& done,
                                absl::Duration timeout, std::string* last) {
  const absl::Time end = absl::Now() + timeout;
  std::string screen = Screen();
  while (true) {
    if (last != nullptr) *last = screen;
    if (done(screen)) {
      // tmux shows what the program has written so far, which may be part of a frame: the
      // screen counts once a second look finds it unchanged.
      absl::SleepFor(absl::Milliseconds(20));
      std::string again = Screen();
      if (again == screen) return true;
      screen = std::move(again);
      if (absl::Now() >= end) {
        if (last != nullptr) *last = screen;
        return false;
      }
      continue;
    }
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(50));
    screen = Screen();
  }
}

void TmuxSession::Resize(int width, int height) {
  Run({"resize-window", "-t", "test", "-x", absl::StrCat(width), "-y", absl::StrCat(height)});
}

bool TmuxSession::Exited(int* status) {
  std::ifstream in(status_file_);
  int code = -1;
  if (!(in >> code)) return false;
  if (status != nullptr) *status = code;
  return true;
}

std::vector<std::string> ScreenLines(const std::string& screen) {
  std::vector<std::string> lines = absl::StrSplit(screen, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

int Occurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace backline::testing
