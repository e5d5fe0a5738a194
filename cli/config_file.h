// The settings file that the `backline` CLI and the desktop tray share: `key = value` lines
// (target, token, token_file, secret_file), `#` starts a comment line.
//
//   auto file = ReadConfigFile(DefaultConfigPath(env));
//   std::string target = file["target"];
#pragma once

#include <functional>
#include <map>
#include <string>

namespace backline::cli {

// BACKLINE_CONFIG, else $XDG_CONFIG_HOME/backline/config, else $HOME/.config/backline/config;
// "" when none of them is set. `env` gives "" for a missing variable.
std::string DefaultConfigPath(const std::function<std::string(const std::string&)>& env);

// The settings in the file at `path`; none when the path is empty or the file cannot be read.
std::map<std::string, std::string> ReadConfigFile(const std::string& path);

}  // namespace backline::cli
