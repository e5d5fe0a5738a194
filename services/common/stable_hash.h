// A hash that is the same in every process and build (unlike absl::Hash), for ids derived from
// names: thread ids of direct and team threads, shortened article ids.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace backline {

// 64-bit FNV-1a.
inline uint64_t StableHash(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace backline
