#include "cli/tray/tray_screen.h"

#define NCURSES_WIDECHAR 1
#include <langinfo.h>
#include <ncursesw/curses.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cli/tray/terminfo.h"
#include "cli/tray/text.h"

namespace backline::cli::tray {
namespace {

// Colour pairs, when the terminal has colours.
constexpr short kUrgentPair = 1;

// The terminal's function keys that the tray uses.
constexpr std::pair<wint_t, Key::Code> kFunctionKeys[] = {
    {KEY_UP, Key::kUp},          {KEY_DOWN, Key::kDown},   {KEY_PPAGE, Key::kPageUp},
    {KEY_NPAGE, Key::kPageDown}, {KEY_ENTER, Key::kEnter}, {KEY_BACKSPACE, Key::kBackspace},
    {KEY_DC, Key::kBackspace},   {KEY_BTAB, Key::kTab},
};

}  // namespace

struct TrayScreen::Terminal {
  SCREEN* screen = nullptr;
  bool colors = false;

  ~Terminal() {
    if (screen == nullptr) return;
    endwin();
    delscreen(screen);
  }

  attr_t Attributes(LineStyle style) const {
    switch (style) {
      case LineStyle::kTitle:
        return A_REVERSE | A_BOLD;
      case LineStyle::kSection:
        return A_BOLD;
      case LineStyle::kSelected:
        return A_REVERSE;
      case LineStyle::kUrgent:
        return colors ? (COLOR_PAIR(kUrgentPair) | A_BOLD) : A_BOLD;
      case LineStyle::kHelp:
        return A_REVERSE;
      case LineStyle::kNormal:
        break;
    }
    return A_NORMAL;
  }
};

absl::StatusOr<std::unique_ptr<TrayScreen>> TrayScreen::Open() {
  if (!isatty(0) || !isatty(1)) {
    return absl::FailedPreconditionError(
        "the tray needs a terminal: run it in one (or over ssh -t), not in a pipe");
  }
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0') {
    return absl::FailedPreconditionError(
        "TERM is not set: set it to your terminal's type, e.g. TERM=xterm-256color");
  }
  // Wide characters need a UTF-8 character type: the user's, else C.UTF-8. Only LC_CTYPE: the
  // rest of the process formats numbers as before.
  std::setlocale(LC_CTYPE, "");
  if (std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) std::setlocale(LC_CTYPE, "C.UTF-8");
  auto terminal = std::make_unique<Terminal>();
  if (KnownTerminalType(term)) terminal->screen = newterm(nullptr, stdout, stdin);
  if (terminal->screen == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the terminal type \"", term,
                     "\" is unknown here: set TERM to one this machine knows (e.g. xterm-256color, "
                     "screen, vt100), or install its terminfo entry"));
  }
  set_term(terminal->screen);
  raw();  // Ctrl-C and Ctrl-Z are keys of the tray, not signals
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);
  leaveok(stdscr, FALSE);
  if (has_colors()) {
    start_color();
    use_default_colors();
    terminal->colors = init_pair(kUrgentPair, COLOR_RED, -1) == OK;
  }
  curs_set(0);
  return std::unique_ptr<TrayScreen>(new TrayScreen(std::move(terminal)));
}

TrayScreen::TrayScreen(std::unique_ptr<Terminal> terminal) : terminal_(std::move(terminal)) {}

TrayScreen::~TrayScreen() = default;

int TrayScreen::width() const { return COLS; }
int TrayScreen::height() const { return LINES; }

void TrayScreen::Draw(const Frame& frame) {
  erase();
  const int rows = std::min(static_cast<int>(frame.lines.size()), LINES);
  for (int row = 0; row < rows; ++row) {
    const Line& line = frame.lines[static_cast<size_t>(row)];
    const attr_t attrs = terminal_->Attributes(line.style);
    attrset(attrs);
    mvaddstr(row, 0, line.text.c_str());
    // A selected line is highlighted across the whole width.
    if (line.style == LineStyle::kSelected) {
      const int used = DisplayWidth(line.text);
      if (used < COLS) mvchgat(row, used, COLS - used, attrs, 0, nullptr);
    }
  }
  attrset(A_NORMAL);
  if (frame.cursor_row >= 0 && frame.cursor_row < LINES) {
    curs_set(1);
    move(frame.cursor_row, std::min(frame.cursor_col, COLS - 1));
  } else {
    curs_set(0);
    move(LINES - 1, 0);
  }
  refresh();
}

std::vector<Key> TrayScreen::ReadKeys(bool* resized) {
  std::vector<Key> keys;
  wint_t ch = 0;
  while (true) {
    const int r = get_wch(&ch);
    if (r == ERR) break;
    if (r == KEY_CODE_YES) {
      if (ch == KEY_RESIZE) *resized = true;
      for (const auto& [code, key] : kFunctionKeys) {
        if (ch == code) keys.push_back(Key::Of(key));
      }
      continue;  // function keys the tray does not use
    }
    switch (ch) {
      case L'\r':
      case L'\n':
        keys.push_back(Key::Of(Key::kEnter));
        break;
      case 27:
        keys.push_back(Key::Of(Key::kEscape));
        break;
      case L'\t':
        keys.push_back(Key::Of(Key::kTab));
        break;
      case 127:
      case 8:
        keys.push_back(Key::Of(Key::kBackspace));
        break;
      case 3:
        keys.push_back(Key::Of(Key::kInterrupt));
        break;
      default:
        if (ch >= 0x20 && !(ch >= 0x7F && ch < 0xA0)) {
          keys.push_back(Key::Text(EncodeUtf8(static_cast<char32_t>(ch))));
        }
        break;
    }
  }
  return keys;
}

}  // namespace backline::cli::tray
