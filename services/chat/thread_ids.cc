#include "services/chat/thread_ids.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace backline::chat {
namespace {

// FNV-1a, 64 bits: stable across processes and builds (unlike absl::Hash).
uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// `thr-` and 50 bits of the hash in the alphabet of server ids.
std::string ThreadId(absl::string_view seed) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  uint64_t bits = Fnv1a(seed);
  std::string id = "thr-";
  for (int i = 0; i < 10; ++i) {
    id.push_back(kAlphabet[bits & 31]);
    bits >>= 5;
  }
  return id;
}

}  // namespace

std::string DirectThreadId(absl::string_view a, absl::string_view b) {
  return a < b ? ThreadId(absl::StrCat("direct|", a, "|", b))
               : ThreadId(absl::StrCat("direct|", b, "|", a));
}

std::string TeamThreadId(absl::string_view team) { return ThreadId(absl::StrCat("team|", team)); }

}  // namespace backline::chat
