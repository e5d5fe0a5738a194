// The desktop tray's command line: where the server is and who the person is, from flags, then
// the environment, then the settings file, as the `backline` CLI takes them.
//
//   auto options = ParseTrayOptions({"--target", "127.0.0.1:7400", "--token-file", "t"}, getenv);
//   options->me     // the token's subject, e.g. "soren"
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "backline/client.h"

namespace backline::qt_tray {

struct TrayOptions {
  // --target, BACKLINE_TARGET, the settings file's target=; default 127.0.0.1:7400
  std::string target;
  // --token, BACKLINE_TOKEN, token=; or read from --token-file, BACKLINE_TOKEN_FILE, token_file=
  // (the settings file: --config, BACKLINE_CONFIG, else ~/.config/backline/config)
  std::string token;
  std::string me;      // the person the token names
  // --status: the presence to set once connected (e.g. `available`).
  std::optional<v1::PresenceStatus> status;
  // --state-file: rewritten (JSON) after every change of what the tray shows; tests read it.
  std::string state_file;
  // --hidden: start in the tray instead of with the window open (when there is a tray).
  bool hidden = false;
  bool help = false;
};

// Reads `args` (without the program name) and the environment through `env` (a missing
// variable gives ""). INVALID_ARGUMENT names the bad option; an unreadable token file or a
// token that names nobody is INVALID_ARGUMENT too, saying so.
absl::StatusOr<TrayOptions> ParseTrayOptions(
    const std::vector<std::string>& args,
    const std::function<std::string(const std::string&)>& env);

// What --help prints.
std::string TrayUsage();

// The subject (`sub`) of a bearer token (an HS256 JWT), read without checking the signature: the
// server checks it on every call; the tray only needs to know whose messages are its own.
absl::StatusOr<std::string> TokenSubject(absl::string_view token);

}  // namespace backline::qt_tray
