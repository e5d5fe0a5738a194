// Input checks shared by all services. Every check names the field it failed on, so that a
// client gets INVALID_ARGUMENT with a precise message and nothing is stored.
//
//   RETURN_IF_ERROR(CheckText("question", req.question(), 1, 4096));
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace backline {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
// On failure, `*bad_offset` (if given) is the byte offset of the first bad sequence.
bool IsValidUtf8(absl::string_view s, size_t* bad_offset = nullptr);

// `field` must be valid UTF-8 of min_bytes..max_bytes bytes.
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t min_bytes,
                       size_t max_bytes);

// Identifiers of people, teams, sites and skills: `[a-z0-9][a-z0-9._-]{0,63}`.
bool IsValidName(absl::string_view s);
absl::Status CheckName(absl::string_view field, absl::string_view value);

// Client-chosen tokens (session ids, idempotency keys): `[A-Za-z0-9._:-]{1,64}`.
bool IsValidToken(absl::string_view s);
absl::Status CheckToken(absl::string_view field, absl::string_view value);

// A BCP-47 language tag in the common `language[-script][-region]` shape, e.g. `da`, `zh-Hant`,
// `pt-BR`, `zh-Hant-TW`. Returns the canonical casing (`zh-Hant-TW`) or INVALID_ARGUMENT.
absl::Status CanonicalLanguage(absl::string_view field, absl::string_view tag, std::string* out);

// Server-assigned ids: a prefix, a dash and 10 characters of [a-z0-9] (`esc-7k2m9q4xwd`).
bool IsValidServerId(absl::string_view prefix, absl::string_view id);
// A new random server id with that prefix.
std::string NewServerId(absl::string_view prefix);

}  // namespace backline

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define BL_RETURN_IF_ERROR(expr)                \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#define BL_CONCAT_INNER(a, b) a##b
#define BL_CONCAT(a, b) BL_CONCAT_INNER(a, b)
// `BL_ASSIGN_OR_RETURN(auto x, StatusOrExpr())`.
#define BL_ASSIGN_OR_RETURN(lhs, expr) \
  BL_ASSIGN_OR_RETURN_IMPL(BL_CONCAT(_status_or_, __LINE__), lhs, expr)
#define BL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
