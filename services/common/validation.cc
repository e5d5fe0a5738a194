#include "services/common/validation.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace backline {

bool IsValidUtf8(absl::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        if (bad_offset) *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (overlong || surrogate || cp > 0x10FFFF) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

absl::Status CheckText(absl::string_view field, absl::string_view value, size_t min_bytes,
                       size_t max_bytes) {
  size_t bad = 0;
  if (!IsValidUtf8(value, &bad)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": invalid UTF-8 at byte ", bad));
  }
  if (value.size() < min_bytes) {
    return absl::InvalidArgumentError(
        min_bytes == 1 ? absl::StrCat(field, ": must not be empty")
                       : absl::StrCat(field, ": shorter than ", min_bytes, " bytes"));
  }
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value.size(), " bytes is over the limit of ", max_bytes));
  }
  return absl::OkStatus();
}

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

absl::Status Invalid(absl::string_view field, absl::string_view value, absl::string_view rule) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  // Echo at most a short, printable prefix of what was given.
  std::string shown;
  for (char c : value.substr(0, 40)) shown.push_back(absl::ascii_isprint(c) ? c : '?');
  return absl::InvalidArgumentError(absl::StrCat(field, ": \"", shown, "\" is not ", rule));
}

}  // namespace

bool IsValidName(absl::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status CheckName(absl::string_view field, absl::string_view value) {
  if (IsValidName(value)) return absl::OkStatus();
  return Invalid(field, value, "a valid id ([a-z0-9][a-z0-9._-]{0,63})");
}

bool IsValidToken(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}

absl::Status CheckToken(absl::string_view field, absl::string_view value) {
  if (IsValidToken(value)) return absl::OkStatus();
  return Invalid(field, value, "a valid key ([A-Za-z0-9._:-]{1,64})");
}

absl::Status CanonicalLanguage(absl::string_view field, absl::string_view tag, std::string* out) {
  const absl::Status bad =
      Invalid(field, tag, "a BCP-47 language tag such as da, zh-Hant or pt-BR");
  if (tag.empty() || tag.size() > 35) return bad;
  std::vector<absl::string_view> parts = absl::StrSplit(tag, '-');
  // Subtags in order: language, then at most one script, at most one region, then variants.
  enum Stage { kLanguage, kScript, kRegion, kVariant };
  Stage stage = kLanguage;
  std::string result;
  for (size_t i = 0; i < parts.size(); ++i) {
    const absl::string_view part = parts[i];
    if (part.empty()) return bad;
    for (char c : part) {
      if (!absl::ascii_isalnum(c)) return bad;
    }
    const bool alpha = std::all_of(part.begin(), part.end(), absl::ascii_isalpha);
    const bool digits = std::all_of(part.begin(), part.end(), absl::ascii_isdigit);
    std::string canonical;
    if (i == 0) {
      if (part.size() < 2 || part.size() > 3 || !alpha) return bad;
      canonical = absl::AsciiStrToLower(part);
    } else if (stage < kScript && part.size() == 4 && alpha) {
      canonical = absl::AsciiStrToLower(part);
      canonical[0] = absl::ascii_toupper(canonical[0]);
      stage = kScript;
    } else if (stage < kRegion && ((part.size() == 2 && alpha) || (part.size() == 3 && digits))) {
      canonical = absl::AsciiStrToUpper(part);
      stage = kRegion;
    } else if (part.size() >= 5 && part.size() <= 8) {
      canonical = absl::AsciiStrToLower(part);
      stage = kVariant;
    } else {
      return bad;
    }
    if (i > 0) result.push_back('-');
    result += canonical;
  }
  *out = std::move(result);
  return absl::OkStatus();
}

bool IsValidServerId(absl::string_view prefix, absl::string_view id) {
  if (id.size() != prefix.size() + 11 || id.substr(0, prefix.size()) != prefix ||
      id[prefix.size()] != '-') {
    return false;
  }
  for (char c : id.substr(prefix.size() + 1)) {
    if (!IsLowerAlnum(c)) return false;
  }
  return true;
}

std::string NewServerId(absl::string_view prefix) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = absl::StrCat(prefix, "-");
  uint64_t bits = rng();
  for (int i = 0; i < 10; ++i) {
    id.push_back(kAlphabet[bits & 31]);
    bits >>= 5;
  }
  return id;
}

}  // namespace backline
