#include "cli/tray/terminfo.h"

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <unistd.h>

namespace backline::cli::tray {

bool KnownTerminalType(const char* term) {
  int found = 0;
  if (setupterm(term, STDOUT_FILENO, &found) != OK) return false;
  TERMINAL* probe = set_curterm(nullptr);
  del_curterm(probe);
  return found == 1;
}

}  // namespace backline::cli::tray
