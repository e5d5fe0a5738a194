#include "cli/tray/failure.h"

#include "absl/strings/match.h"

namespace backline::cli::tray {

std::string TransportFailure(absl::string_view message) {
  if (absl::StartsWith(message, "DNS resolution failed")) return "no such host";
  if (absl::StrContains(message, "Connection refused")) return "connection refused";
  if (absl::StrContains(message, "Socket closed") ||
      absl::StrContains(message, "Connection reset") || absl::StrContains(message, "Broken pipe")) {
    return "the connection broke";
  }
  if (absl::StrContains(message, "keepalive")) return "the connection went silent";
  if (absl::StartsWith(message, "failed to connect to all addresses") ||
      absl::StartsWith(message, "connections to all backends failing")) {
    return "cannot connect";
  }
  return "";
}

}  // namespace backline::cli::tray
