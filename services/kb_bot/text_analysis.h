// Turning text in any language into search terms, for the knowledge-base bot.
//
// Text is normalized with Unicode NFKC case folding (so `Faktura`, `FAKTURA` and `ﬁ` ligatures
// match their plain lower-case forms, and full-width Latin matches ASCII), then split:
//   - letters and digits of scripts written with spaces (Latin, Greek, Cyrillic, ...) form words;
//     combining marks stay with their word (`sąskaita`, `ø`, `é` are one word each);
//   - Han, Hiragana and Katakana, written without spaces, become overlapping character bigrams
//     (`退款申請` → `退款`, `款申`, `申請`), and a lone character is its own term — so a Chinese
//     question finds a Chinese article without a dictionary.
// Everything else (spaces, punctuation, symbols) separates terms.
//
//   std::vector<std::string> terms = AnalyzeText("Kunden kan ikke se sin FAKTURA");
//   // {"kunden", "kan", "ikke", "se", "sin", "faktura"}
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace backline::kb {

// The terms of `text` (UTF-8; invalid sequences separate terms), in order, with repeats.
std::vector<std::string> AnalyzeText(absl::string_view text);

// A crude stemmer for inflected languages, language-blind: a term of more than kStemLength
// characters is cut to its first kStemLength, so that `faktura`/`fakturaen`, `kliento`/
// `klientui` and `betalt`/`betaling` meet. Numbers and short terms are kept whole.
inline constexpr int kStemLength = 5;
std::string StemTerm(absl::string_view term);

}  // namespace backline::kb
