#include "services/chat/thread_ids.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "services/common/stable_hash.h"

namespace backline::chat {
namespace {

// `thr-` and 50 bits of the hash in the alphabet of server ids.
std::string ThreadId(absl::string_view seed) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  uint64_t bits = StableHash(seed);
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
