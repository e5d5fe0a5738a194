// backline-tray-qt: the Backline desktop tray (see tray_window.h). main() reads the options,
// quits cleanly on SIGTERM and SIGINT, and runs the Qt event loop.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QApplication>
#include <QSocketNotifier>
#include <cstdlib>
#include <iostream>

#include "cli/qt_tray/tray_options.h"
#include "cli/qt_tray/tray_window.h"

namespace {

int signal_fds[2] = {-1, -1};

void OnSignal(int) {
  const char byte = 1;
  // Nothing else is async-signal-safe enough: the event loop reads the byte and quits.
  [[maybe_unused]] ssize_t n = write(signal_fds[0], &byte, 1);
}

// SIGTERM and SIGINT end the event loop, so that the feed is stopped and threads are joined.
void QuitOnSignals(QApplication* app) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, signal_fds) != 0) return;
  auto* notifier = new QSocketNotifier(signal_fds[1], QSocketNotifier::Read, app);
  QObject::connect(notifier, &QSocketNotifier::activated, app, [app] {
    char byte;
    [[maybe_unused]] ssize_t n = read(signal_fds[1], &byte, 1);
    // exit, not quit: quit() asks the windows to close first, and the tray's window only hides.
    QCoreApplication::exit(0);
  });
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  auto options = backline::qt_tray::ParseTrayOptions(
      std::vector<std::string>(argv + 1, argv + argc), [](const std::string& name) {
        const char* value = std::getenv(name.c_str());
        return value == nullptr ? std::string() : std::string(value);
      });
  if (!options.ok()) {
    std::cerr << "backline-tray-qt: " << options.status().message() << " (see --help)\n";
    return 2;
  }
  if (options->help) {
    std::cout << backline::qt_tray::TrayUsage();
    return 0;
  }
  QApplication app(argc, argv);
  QApplication::setApplicationName("backline-tray-qt");
  QApplication::setQuitOnLastWindowClosed(false);
  QuitOnSignals(&app);
  backline::qt_tray::TrayWindow window(*options);
  window.Start();
  return app.exec();
}
