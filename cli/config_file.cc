#include "cli/config_file.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace backline::cli {

std::string DefaultConfigPath(const std::function<std::string(const std::string&)>& env) {
  if (std::string p = env("BACKLINE_CONFIG"); !p.empty()) return p;
  if (std::string x = env("XDG_CONFIG_HOME"); !x.empty()) return x + "/backline/config";
  if (std::string h = env("HOME"); !h.empty()) return h + "/.config/backline/config";
  return "";
}

std::map<std::string, std::string> ReadConfigFile(const std::string& path) {
  std::map<std::string, std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    const size_t eq = l.find('=');
    if (eq == absl::string_view::npos) continue;
    out[std::string(absl::StripAsciiWhitespace(l.substr(0, eq)))] =
        std::string(absl::StripAsciiWhitespace(l.substr(eq + 1)));
  }
  return out;
}

}  // namespace backline::cli
