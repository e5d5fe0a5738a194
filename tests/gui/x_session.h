// A private X display for tests of desktop apps: Xvfb on a free display number with no window
// manager, optionally a system-tray host (trayer), and xdotool to find windows, focus them and
// type into them. Stopped, with whatever it started, on destruction.
//
//   XSession x(dir);
//   x.StartTrayHost();                       // or not: apps must do without one
//   x.MapCharacters({"Hej på dig, 你好"});   // before starting the app, see below
//   BackgroundProcess app({...}, x.Environment());
//   std::string window = x.WaitForWindow("1 offer", absl::Seconds(30));
//   x.Key(window, "alt+a");
//   x.Type(window, "Hej på dig, 你好");
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/support/process.h"

namespace backline::testing {

class XSession {
 public:
  // Starts Xvfb (1024x768, 24 bit, no TCP); `dir` is a private temp directory for its files and
  // the apps' (HOME, XDG_RUNTIME_DIR). Throws if it does not come up.
  explicit XSession(const std::string& dir);
  ~XSession();
  XSession(const XSession&) = delete;
  XSession& operator=(const XSession&) = delete;

  // ":N".
  const std::string& display() const { return display_; }
  // What an app started on this display needs: DISPLAY, the xcb platform for Qt, a private
  // HOME and runtime directory, and no session bus (so that Qt uses the XEmbed tray protocol).
  std::map<std::string, std::string> Environment() const;

  // Whether trayer was found when the tests were built.
  static bool TrayHostInstalled();
  // Starts trayer and waits until its panel is up; false if it did not come up in `timeout`.
  bool StartTrayHost(absl::Duration timeout = absl::Seconds(30));

  // Puts every non-ASCII character of `texts` on a keycode of its own, so that xdotool types them
  // with keys already in the keymap. (Otherwise xdotool remaps a spare key for each such
  // character while it types, and an app that reads the changed keymap late sees the wrong
  // character.) Call it before starting the app.
  bool MapCharacters(const std::vector<std::string>& texts);

  // The first window whose name contains `part`, waiting up to `timeout`; "" if none.
  std::string WaitForWindow(const std::string& part, absl::Duration timeout);
  // The name (title) of `window`, "" if it is gone.
  std::string WindowName(const std::string& window);
  // Gives `window` the keyboard focus and presses `keys` (xdotool syntax: "alt+a", "Return").
  bool Key(const std::string& window, const std::string& keys);
  // Gives `window` the keyboard focus and types `text` (UTF-8).
  bool Type(const std::string& window, const std::string& text);
  // Saves the whole screen as a PNG; false without ImageMagick's `import`.
  bool Screenshot(const std::string& png_path);

 private:
  ProcessResult X(const std::vector<std::string>& argv);
  bool Focus(const std::string& window);

  const std::string dir_;
  std::string display_;
  std::unique_ptr<BackgroundProcess> xvfb_;
  std::unique_ptr<BackgroundProcess> tray_host_;
};

}  // namespace backline::testing
