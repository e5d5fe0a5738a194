// The tray's terminal: ncursesw on the process's own terminal (whatever $TERM names: a local
// terminal, tmux, or one at the far end of ssh; keys only, no mouse). It draws the frames the
// model renders and turns what is typed into keys. With terminfo.cc, the only code that uses
// ncurses.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/tray/tray_model.h"

namespace backline::cli::tray {

class TrayScreen {
 public:
  // Takes over the terminal on stdin/stdout. FAILED_PRECONDITION when they are not a terminal,
  // TERM is unset, or the terminal type is unknown (the message says what to set).
  static absl::StatusOr<std::unique_ptr<TrayScreen>> Open();
  // Gives the terminal back as it was.
  ~TrayScreen();
  TrayScreen(const TrayScreen&) = delete;
  TrayScreen& operator=(const TrayScreen&) = delete;

  // The window's size now (it follows resizes).
  int width() const;
  int height() const;
  // Where keys come from, to wait on with poll(2).
  int input_fd() const { return 0; }

  void Draw(const Frame& frame);
  // Every key typed so far, without waiting; a resize shows as `*resized` (the next Draw uses
  // the new size).
  std::vector<Key> ReadKeys(bool* resized);

 private:
  struct Terminal;
  explicit TrayScreen(std::unique_ptr<Terminal> terminal);
  std::unique_ptr<Terminal> terminal_;
};

}  // namespace backline::cli::tray
