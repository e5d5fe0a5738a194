// Bearer tokens: HS256-signed JWTs naming a person (`sub`) and a role (`role`), with issuer,
// audience and expiry. Only HS256 is accepted; `alg: none`, other algorithms, a wrong
// signature, a missing or past `exp`, or a wrong `iss`/`aud` are refused.
//
//   TokenCodec codec(secret);
//   std::string token = *codec.Issue({"anna", v1::ROLE_SENIOR}, absl::Hours(12), clock.Now());
//   absl::StatusOr<Principal> who = codec.Verify(token);   // UNAUTHENTICATED on any defect
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/principal.h"

namespace backline {

inline constexpr absl::string_view kTokenIssuer = "backline";
inline constexpr absl::string_view kTokenAudience = "backline";

class TokenCodec {
 public:
  // `secret` must be at least 32 bytes (checked by LoadTokenSecret / the callers).
  explicit TokenCodec(std::string secret);

  absl::StatusOr<std::string> Issue(const Principal& principal, absl::Duration ttl,
                                    absl::Time now) const;
  // Verifies signature, algorithm, `exp` (required, against the system clock), `iss`, `aud`,
  // and that `sub` and `role` are well-formed. A token verified before is answered from memory
  // until its `exp`: the same string always gets the same answer, and the signature check and
  // JSON parsing cost more than most calls' own work. Thread-safe.
  absl::StatusOr<Principal> Verify(absl::string_view token) const;

  // How many tokens had their signature and claims checked (not answered from memory).
  int64_t full_checks() const { return full_checks_.load(std::memory_order_relaxed); }

 private:
  struct Verified {
    Principal principal;
    int64_t expires = 0;  // `exp`, seconds since the epoch
  };
  absl::StatusOr<Verified> VerifyUncached(absl::string_view token) const;

  std::string secret_;
  // Tokens that verified, by their whole text; emptied when it reaches kMaxVerified.
  static constexpr size_t kMaxVerified = 20000;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<int64_t> full_checks_{0};
};

// Reads the signing secret from a file (first line, trimmed); INVALID_ARGUMENT when it is
// shorter than 32 bytes, NOT_FOUND when the file cannot be read.
absl::StatusOr<std::string> LoadTokenSecret(const std::string& path);

}  // namespace backline
