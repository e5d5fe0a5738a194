#include "services/common/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace backline {

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto range = metadata.equal_range("authorization");
  if (range.first == range.second) {
    return absl::UnauthenticatedError("missing authorization metadata (Bearer token)");
  }
  if (std::next(range.first) != range.second) {
    return absl::UnauthenticatedError("more than one authorization header");
  }
  absl::string_view value(range.first->second.data(), range.first->second.size());
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "Bearer ")) {
    return absl::UnauthenticatedError("authorization metadata is not a Bearer token");
  }
  return codec_->Verify(absl::StripAsciiWhitespace(value.substr(7)));
}

}  // namespace backline
