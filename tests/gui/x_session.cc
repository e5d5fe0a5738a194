#include "tests/gui/x_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

#ifndef BACKLINE_XVFB_PATH
#error \
    "BACKLINE_{XVFB,XDOTOOL,XMODMAP,TRAYER,IMPORT}_PATH must be defined (the last two may be empty)"
#endif

namespace backline::testing {
namespace {

// The code points of `text` (UTF-8, assumed valid) that are not ASCII.
std::vector<char32_t> NonAscii(const std::string& text) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const int length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t code = length == 1 ? c : c & (0x3F >> (length - 1));
    for (int k = 1; k < length && i + k < text.size(); ++k) {
      code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    if (length > 1) out.push_back(code);
    i += length;
  }
  return out;
}

// Reads the display number Xvfb writes to `fd` (-displayfd), up to `timeout`.
std::string ReadDisplayNumber(int fd, absl::Duration timeout) {
  std::string number;
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    pollfd p = {fd, POLLIN, 0};
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
    if (poll(&p, 1, std::max(wait_ms, 1)) <= 0) continue;
    char buf[16];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    number.append(buf, static_cast<size_t>(n));
    if (number.find('\n') != std::string::npos) break;
  }
  return std::string(absl::StripAsciiWhitespace(number));
}

}  // namespace

XSession::XSession(const std::string& dir) : dir_(dir) {
  // Xvfb picks a free display number and writes it to the pipe: no guessing, no race with other
  // X servers on the machine.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  fcntl(fds[1], F_SETFD, 0);  // the write end goes to Xvfb
  xvfb_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{BACKLINE_XVFB_PATH, "-displayfd", std::to_string(fds[1]), "-screen",
                               "0", "1024x768x24", "-nolisten", "tcp", "-noreset"});
  close(fds[1]);
  const std::string number = ReadDisplayNumber(fds[0], absl::Seconds(30));
  close(fds[0]);
  if (number.empty()) throw std::runtime_error("Xvfb did not come up");
  display_ = ":" + number;
  mkdir((dir_ + "/home").c_str(), 0700);
  mkdir((dir_ + "/run").c_str(), 0700);
}

XSession::~XSession() {
  if (tray_host_) tray_host_->Stop(SIGTERM);
  // SIGTERM, so that Xvfb removes its lock file and socket.
  if (xvfb_) xvfb_->Stop(SIGTERM);
}

std::map<std::string, std::string> XSession::Environment() const {
  return {{"DISPLAY", display_},
          {"QT_QPA_PLATFORM", "xcb"},
          {"HOME", dir_ + "/home"},
          {"XDG_RUNTIME_DIR", dir_ + "/run"},
          {"XDG_CONFIG_HOME", dir_ + "/home/.config"},
          {"DBUS_SESSION_BUS_ADDRESS", "disabled:"},
          {"NO_AT_BRIDGE", "1"},
          {"QT_ACCESSIBILITY", "0"}};
}

bool XSession::TrayHostInstalled() { return std::string(BACKLINE_TRAYER_PATH) != ""; }

bool XSession::StartTrayHost(absl::Duration timeout) {
  if (!TrayHostInstalled()) return false;
  tray_host_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{BACKLINE_TRAYER_PATH, "--edge", "top", "--align", "right",
                               "--widthtype", "request", "--height", "24"},
      Environment());
  // trayer names its window "panel" once it is set up.
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (X({BACKLINE_XDOTOOL_PATH, "search", "--name", "^panel$"}).exit_code == 0) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

bool XSession::MapCharacters(const std::vector<std::string>& texts) {
  std::set<char32_t> seen;
  std::vector<std::string> argv = {BACKLINE_XMODMAP_PATH};
  // Keycodes 150 and up hold multimedia keys on Xvfb's default map, which no test uses.
  int keycode = 150;
  for (const std::string& text : texts) {
    for (char32_t c : NonAscii(text)) {
      if (!seen.insert(c).second) continue;
      if (keycode > 255) return false;
      const std::string keysym = absl::StrFormat("U%04X", static_cast<uint32_t>(c));
      argv.push_back("-e");
      argv.push_back(absl::StrCat("keycode ", keycode++, " = ", keysym, " ", keysym));
    }
  }
  return argv.size() == 1 || X(argv).exit_code == 0;
}

std::string XSession::WaitForWindow(const std::string& part, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    // xdotool matches names as regular expressions: quote what is asked for.
    std::string pattern;
    for (char c : part) {
      if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) pattern.push_back('\\');
      pattern.push_back(c);
    }
    ProcessResult r = X({BACKLINE_XDOTOOL_PATH, "search", "--name", pattern});
    if (r.exit_code == 0 && !r.out.empty()) return r.out.substr(0, r.out.find('\n'));
    absl::SleepFor(absl::Milliseconds(100));
  }
  return "";
}

std::string XSession::WindowName(const std::string& window) {
  ProcessResult r = X({BACKLINE_XDOTOOL_PATH, "getwindowname", window});
  return r.exit_code == 0 ? std::string(absl::StripTrailingAsciiWhitespace(r.out)) : "";
}

bool XSession::Key(const std::string& window, const std::string& keys) {
  return Focus(window) &&
         X({BACKLINE_XDOTOOL_PATH, "key", "--clearmodifiers", keys}).exit_code == 0;
}

bool XSession::Type(const std::string& window, const std::string& text) {
  return Focus(window) && X({BACKLINE_XDOTOOL_PATH, "type", "--delay", "5", text}).exit_code == 0;
}

bool XSession::Screenshot(const std::string& png_path) {
  if (std::string(BACKLINE_IMPORT_PATH).empty()) return false;
  return X({BACKLINE_IMPORT_PATH, "-window", "root", png_path}).exit_code == 0;
}

ProcessResult XSession::X(const std::vector<std::string>& argv) {
  return RunProcess(argv, Environment(), "", absl::Seconds(30));
}

bool XSession::Focus(const std::string& window) {
  // No window manager: xdotool sets the input focus itself, and --sync waits until it has.
  return X({BACKLINE_XDOTOOL_PATH, "windowfocus", "--sync", window}).exit_code == 0;
}

}  // namespace backline::testing
