// The only file that includes cpp-jwt (it is header-only and heavy).
#include "services/common/token.h"

#include <chrono>
#include <fstream>
#include <jwt/jwt.hpp>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/validation.h"

namespace backline {

TokenCodec::TokenCodec(std::string secret) : secret_(std::move(secret)) {}

absl::StatusOr<std::string> TokenCodec::Issue(const Principal& principal, absl::Duration ttl,
                                              absl::Time now) const {
  if (!IsValidName(principal.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject: \"", principal.id, "\" is not a valid person id"));
  }
  if (principal.role == v1::ROLE_UNSPECIFIED) {
    return absl::InvalidArgumentError("role: required");
  }
  using namespace jwt::params;
  jwt::jwt_object obj{algorithm("HS256"), secret(secret_),
                      payload({{"sub", principal.id},
                               {"role", std::string(RoleName(principal.role))},
                               {"iss", std::string(kTokenIssuer)},
                               {"aud", std::string(kTokenAudience)}})};
  obj.add_claim("iat", static_cast<int64_t>(absl::ToUnixSeconds(now)));
  obj.add_claim("exp", static_cast<int64_t>(absl::ToUnixSeconds(now + ttl)));
  std::error_code ec;
  std::string token = obj.signature(ec);
  if (ec) return absl::InternalError(absl::StrCat("signing token: ", ec.message()));
  return token;
}

namespace {

absl::Status Expired() {
  return absl::UnauthenticatedError("token has expired or has no valid expiry");
}

}  // namespace

absl::StatusOr<Principal> TokenCodec::Verify(absl::string_view token) const {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  {
    absl::MutexLock lock(&mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (it->second.expires > now) return it->second.principal;
      verified_.erase(it);
      return Expired();
    }
  }
  BL_ASSIGN_OR_RETURN(Verified v, VerifyUncached(token));
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_.emplace(std::string(token), v);
  return v.principal;
}

absl::StatusOr<TokenCodec::Verified> TokenCodec::VerifyUncached(absl::string_view token) const {
  full_checks_.fetch_add(1, std::memory_order_relaxed);
  if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
  if (token.size() > 4096) return absl::UnauthenticatedError("token too long");
  using namespace jwt::params;
  std::error_code ec;
  jwt::jwt_object decoded;
  try {
    decoded = jwt::decode(jwt::string_view(token.data(), token.size()), algorithms({"HS256"}), ec,
                          secret(secret_), issuer(std::string(kTokenIssuer)),
                          aud(std::string(kTokenAudience)), verify(true));
  } catch (const std::exception& e) {
    // cpp-jwt throws on malformed JSON inside an otherwise well-shaped token.
    return absl::UnauthenticatedError(absl::StrCat("malformed token: ", e.what()));
  }
  if (ec) return absl::UnauthenticatedError(absl::StrCat("invalid token: ", ec.message()));
  const auto& claims = decoded.payload();
  if (!claims.has_claim("exp")) return absl::UnauthenticatedError("token has no expiry");
  if (decoded.header().algo() != jwt::algorithm::HS256) {
    return absl::UnauthenticatedError("token algorithm not allowed");
  }
  const auto& json = claims.create_json_obj();
  // cpp-jwt reads `exp` as unsigned, so a negative one would never expire: check it here too.
  const auto exp = json.find("exp");
  if (exp == json.end() || !exp->is_number_integer() || exp->get<int64_t>() <= 0 ||
      exp->get<int64_t>() <= absl::ToUnixSeconds(absl::Now())) {
    return Expired();
  }
  Verified v;
  v.expires = exp->get<int64_t>();
  try {
    v.principal.id = json.at("sub").get<std::string>();
    v.principal.role = ParseRole(json.at("role").get<std::string>());
  } catch (const std::exception&) {
    return absl::UnauthenticatedError("token lacks sub or role");
  }
  if (!IsValidName(v.principal.id) || v.principal.role == v1::ROLE_UNSPECIFIED) {
    return absl::UnauthenticatedError("token names no valid person and role");
  }
  return v;
}

absl::StatusOr<std::string> LoadTokenSecret(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token secret file ", path));
  std::string line;
  std::getline(in, line);
  std::string secret(absl::StripAsciiWhitespace(line));
  if (secret.size() < 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("token secret in ", path, " is shorter than 32 bytes"));
  }
  return secret;
}

}  // namespace backline
