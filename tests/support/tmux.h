// A full-screen program under test in tmux: a tmux server of its own (a socket named for the
// test, so tests in parallel never meet), one detached window of a given size running the
// program, keys typed into it and its screen read back, as a person at a terminal would.
//
//   TmuxSession tray(dir, 120, 40, {BACKLINE_CLI_PATH, "tray"}, {{"BACKLINE_TOKEN", token}});
//   ASSERT_TRUE(tray.WaitForScreen([](const std::string& s) { return Contains(s, "connected"); }));
//   tray.Keys({"a"});
//   tray.Type("Hej 你好");
//   tray.Keys({"Enter"});
//   tray.Resize(80, 24);
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace backline::testing {

class TmuxSession {
 public:
  // Starts `argv` in a window of `width` x `height` with `env` added to its environment (LANG
  // is C.UTF-8 unless `env` says otherwise; TERM is tmux-256color unless it says otherwise).
  // `dir` holds the tmux configuration. The window stays when the program exits, so that its
  // last screen and exit status can be read.
  TmuxSession(const std::string& dir, int width, int height, const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& env);
  // Kills the tmux server and with it the program.
  ~TmuxSession();
  TmuxSession(const TmuxSession&) = delete;
  TmuxSession& operator=(const TmuxSession&) = delete;

  // Presses keys by tmux's names: "a", "Enter", "Escape", "Up", "BSpace", "C-c"...
  void Keys(const std::vector<std::string>& keys);
  // Types `text` as it is (any UTF-8).
  void Type(const std::string& text);
  // The screen now, one line per row (trailing blanks dropped by tmux).
  std::string Screen();
  // Everything the program printed that scrolled by or is on the screen, lines that wrapped at
  // the window's edge joined again (for what a program printed before it exited).
  std::string Transcript();
  // Polls the screen until `done` holds for it, and for the same screen a moment later (so
  // that a frame half written is not taken for the whole), or `timeout` passes; `last` gets
  // the last screen seen (for the failure message).
  bool WaitForScreen(const std::function<bool(const std::string&)>& done,
                     absl::Duration timeout = absl::Seconds(60), std::string* last = nullptr);
  // Resizes the window, as a terminal emulator or an ssh client would (the program gets
  // SIGWINCH).
  void Resize(int width, int height);
  // Whether the program has exited, and its exit status if so (128 + the signal that killed it).
  bool Exited(int* status);

 private:
  std::vector<std::string> Tmux(std::vector<std::string> args) const;
  std::string Run(const std::vector<std::string>& args);

  std::string socket_;
  std::string config_;
  std::string status_file_;
};

// Lines of a screen, and how often `needle` occurs in `text`.
std::vector<std::string> ScreenLines(const std::string& screen);
int Occurrences(const std::string& text, const std::string& needle);

}  // namespace backline::testing
