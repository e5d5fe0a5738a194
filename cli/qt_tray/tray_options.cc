#include "cli/qt_tray/tray_options.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "cli/args.h"
#include "cli/config_file.h"
#include "cli/words.h"
#include "nlohmann/json.hpp"

namespace backline::qt_tray {
namespace {

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read the token file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

}  // namespace

absl::StatusOr<TrayOptions> ParseTrayOptions(
    const std::vector<std::string>& words,
    const std::function<std::string(const std::string&)>& env) {
  auto args = cli::Args::Parse(
      words, {"target", "token", "token-file", "config", "status", "state-file"},
      {"hidden", "help"});
  if (!args.ok()) return args.status();
  TrayOptions o;
  if (args->Has("help")) {
    o.help = true;
    return o;
  }
  if (!args->positional().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", args->positional().front(), "\""));
  }
  const auto settings = cli::ReadConfigFile(args->Get("config", cli::DefaultConfigPath(env)));
  auto pick = [&](const char* flag, const char* variable, const char* key) {
    if (args->Has(flag)) return args->Get(flag);
    if (std::string v = env(variable); !v.empty()) return v;
    auto it = settings.find(key);
    return it == settings.end() ? std::string() : it->second;
  };
  o.target = pick("target", "BACKLINE_TARGET", "target");
  if (o.target.empty()) o.target = "127.0.0.1:7400";
  o.token = pick("token", "BACKLINE_TOKEN", "token");
  if (o.token.empty()) {
    const std::string file = pick("token-file", "BACKLINE_TOKEN_FILE", "token_file");
    if (file.empty()) {
      return absl::InvalidArgumentError(
          "no token: pass --token-file F (or --token T, BACKLINE_TOKEN_FILE, BACKLINE_TOKEN, or "
          "token_file= in the config file); an admin issues one with `backline admin token`");
    }
    auto token = ReadToken(file);
    if (!token.ok()) return token.status();
    o.token = std::move(*token);
  }
  auto me = TokenSubject(o.token);
  if (!me.ok()) return me.status();
  o.me = std::move(*me);
  if (args->Has("status")) {
    auto status = cli::ParseStatusWord(args->Get("status"));
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--status: ", status.status().message()));
    }
    o.status = *status;
  }
  o.state_file = args->Get("state-file");
  o.hidden = args->Has("hidden");
  return o;
}

std::string TrayUsage() {
  return "usage: backline-tray-qt [--target HOST:PORT] [--token-file F | --token T]\n"
         "                         [--config F] [--status STATUS] [--hidden] [--state-file F]\n"
         "\n"
         "The Backline tray for seniors and team leaders: offers with their deadlines (accept\n"
         "Alt+A, decline Alt+D), threads with unread counts, replies, presence.\n"
         "\n"
         "  --target HOST:PORT   server (env BACKLINE_TARGET; default 127.0.0.1:7400)\n"
         "  --token-file F       read the bearer token from a file (env BACKLINE_TOKEN_FILE)\n"
         "  --token T            the bearer token itself (env BACKLINE_TOKEN)\n"
         "  --config F           settings file shared with the backline CLI (env\n"
         "                       BACKLINE_CONFIG; default ~/.config/backline/config with\n"
         "                       target=, token=, token_file=); flags and environment first\n"
         "  --status STATUS      set once connected: available, on_call, wrap_up, break,\n"
         "                       meeting, offline\n"
         "  --hidden             start in the system tray, without the window (if there is a\n"
         "                       tray; otherwise the window opens anyway)\n"
         "  --state-file F       keep F (JSON) up to date with what the tray shows\n";
}

absl::StatusOr<std::string> TokenSubject(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string payload;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[1], &payload)) {
    return absl::InvalidArgumentError("the token is not a Backline token (a JWT)");
  }
  const nlohmann::json claims = nlohmann::json::parse(payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("sub") || !claims["sub"].is_string() ||
      claims["sub"].get<std::string>().empty()) {
    return absl::InvalidArgumentError("the token names nobody (no `sub` claim)");
  }
  return claims["sub"].get<std::string>();
}

}  // namespace backline::qt_tray
