#include "services/kb_bot/text_analysis.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

namespace backline::kb {
namespace {

// UTF-8 → UTF-16, invalid sequences replaced by U+FFFD (a separator).
std::u16string ToUtf16(absl::string_view text) {
  std::u16string out;
  out.reserve(text.size());
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  while (i < n) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) c = 0xFFFD;
    if (U16_LENGTH(c) == 1) {
      out.push_back(static_cast<char16_t>(c));
    } else {
      out.push_back(static_cast<char16_t>(U16_LEAD(c)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  return out;
}

// NFKC case folding; the input unchanged if ICU cannot load its data.
std::u16string FoldCase(const std::u16string& in) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* norm = unorm2_getNFKCCasefoldInstance(&status);
  if (U_FAILURE(status) || in.empty()) return in;
  std::u16string out(in.size() + 16, u'\0');
  int32_t len = unorm2_normalize(norm, in.data(), static_cast<int32_t>(in.size()), out.data(),
                                 static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    out.assign(static_cast<size_t>(len), u'\0');
    len = unorm2_normalize(norm, in.data(), static_cast<int32_t>(in.size()), out.data(), len,
                           &status);
  }
  if (U_FAILURE(status)) return in;
  out.resize(static_cast<size_t>(len));
  return out;
}

void AppendUtf8(UChar32 c, std::string* out) {
  char buf[U8_MAX_LENGTH];
  int32_t len = 0;
  UBool error = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), len, U8_MAX_LENGTH, c, error);
  if (!error) out->append(buf, static_cast<size_t>(len));
}

bool IsWordChar(UChar32 c) {
  return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_isdigit(c) ||
         u_charType(c) == U_NON_SPACING_MARK || u_charType(c) == U_COMBINING_SPACING_MARK;
}

// Letters used by Han, Hiragana or Katakana text (by script extension, so the kana length mark
// and the iteration mark count; CJK punctuation is not a letter and separates).
bool IsIdeographic(UChar32 c) {
  return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) &&
         (uscript_hasScript(c, USCRIPT_HAN) || uscript_hasScript(c, USCRIPT_HIRAGANA) ||
          uscript_hasScript(c, USCRIPT_KATAKANA));
}

}  // namespace

std::vector<std::string> AnalyzeText(absl::string_view text) {
  const std::u16string folded = FoldCase(ToUtf16(text));
  std::vector<std::string> terms;
  std::string word;
  // The run of ideographs being split into bigrams.
  std::vector<UChar32> ideographs;
  auto end_word = [&] {
    if (!word.empty()) terms.push_back(std::move(word));
    word.clear();
  };
  auto end_ideographs = [&] {
    if (ideographs.size() == 1) {
      std::string t;
      AppendUtf8(ideographs[0], &t);
      terms.push_back(std::move(t));
    }
    for (size_t i = 0; i + 1 < ideographs.size(); ++i) {
      std::string t;
      AppendUtf8(ideographs[i], &t);
      AppendUtf8(ideographs[i + 1], &t);
      terms.push_back(std::move(t));
    }
    ideographs.clear();
  };
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(folded.size());
  while (i < n) {
    UChar32 c;
    U16_NEXT(folded.data(), i, n, c);
    if (IsIdeographic(c)) {
      end_word();
      ideographs.push_back(c);
    } else if (IsWordChar(c)) {
      end_ideographs();
      AppendUtf8(c, &word);
    } else {
      end_word();
      end_ideographs();
    }
  }
  end_word();
  end_ideographs();
  return terms;
}

std::string StemTerm(absl::string_view term) {
  int32_t i = 0, chars = 0;
  const int32_t n = static_cast<int32_t>(term.size());
  const auto* s = reinterpret_cast<const uint8_t*>(term.data());
  bool digits = true;
  int32_t cut = n;
  while (i < n) {
    UChar32 c;
    U8_NEXT(s, i, n, c);
    digits = digits && c >= 0 && u_isdigit(c);
    if (++chars == kStemLength) cut = i;
  }
  if (digits || chars <= kStemLength) return std::string(term);
  return std::string(term.substr(0, static_cast<size_t>(cut)));
}

}  // namespace backline::kb
