// Text as a terminal shows it: UTF-8 decoded to code points, each as wide as the terminal draws
// it (two columns for Chinese, none for a combining mark), cut or wrapped to a number of columns.
// The tray lays out every line with these, so what it draws never spills past the screen's edge
// whatever the language. Widths come from wcwidth(3), as ncursesw's do; the locale's character
// type must be UTF-8 (the tray sets it).
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace backline::cli::tray {

// The code points of UTF-8 text; every invalid byte becomes U+FFFD.
std::u32string DecodeUtf8(absl::string_view text);
// UTF-8 of code points.
std::string EncodeUtf8(std::u32string_view text);
std::string EncodeUtf8(char32_t c);

// Columns one code point takes: 0 (combining marks), 1 or 2 (East Asian wide).
int CharWidth(char32_t c);
// Columns a line of text takes.
int DisplayWidth(absl::string_view text);

// One line fit for a terminal: control characters (tab, newline, escape...) become spaces, so
// that nothing in a message can move the cursor or change the terminal's state.
std::string OneLine(absl::string_view text);

// `text` (one line) cut to at most `width` columns, ending in "…" when something was cut.
std::string Fit(absl::string_view text, int width);
// `text` padded with spaces to `width` columns (cut first if wider).
std::string PadTo(absl::string_view text, int width);

// `text` wrapped to lines of at most `width` columns: at spaces where it can, inside a word
// where one word is wider than a line; newlines in `text` start new lines.
std::vector<std::string> Wrap(absl::string_view text, int width);

// Removes the last code point of `text` (for backspace). False if `text` is empty.
bool PopLastCodePoint(std::string* text);

}  // namespace backline::cli::tray
