#include "cli/tray/text.h"

#include <cwchar>

namespace backline::cli::tray {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c < 0xA0); }

}  // namespace

std::u32string DecodeUtf8(absl::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    int extra = 0;
    char32_t c = 0;
    char32_t min = 0;
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      extra = 1, c = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, c = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      extra = 3, c = b & 0x07, min = 0x10000;
    } else {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    size_t j = i + 1;
    for (; j < text.size() && j <= i + extra; ++j) {
      const unsigned char cont = static_cast<unsigned char>(text[j]);
      if ((cont & 0xC0) != 0x80) break;
      c = (c << 6) | (cont & 0x3F);
    }
    if (j != i + 1 + extra || c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
      out.push_back(kReplacement);
      i = j > i + 1 ? j : i + 1;
      continue;
    }
    out.push_back(c);
    i = j;
  }
  return out;
}

std::string EncodeUtf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) out += EncodeUtf8(c);
  return out;
}

int CharWidth(char32_t c) {
  if (IsControl(c)) return 1;  // drawn as a space by OneLine
  const int w = wcwidth(static_cast<wchar_t>(c));
  return w < 0 ? 1 : w;
}

int DisplayWidth(absl::string_view text) {
  int width = 0;
  for (char32_t c : DecodeUtf8(text)) width += CharWidth(c);
  return width;
}

std::string OneLine(absl::string_view text) {
  std::u32string cps = DecodeUtf8(text);
  for (char32_t& c : cps) {
    if (IsControl(c)) c = U' ';
  }
  return EncodeUtf8(cps);
}

std::string Fit(absl::string_view text, int width) {
  if (width <= 0) return "";
  if (DisplayWidth(text) <= width) return std::string(text);
  std::u32string out;
  int used = 0;
  for (char32_t c : DecodeUtf8(text)) {
    const int w = CharWidth(c);
    if (used + w > width - 1) break;  // room for the ellipsis
    out.push_back(c);
    used += w;
  }
  out.push_back(U'…');
  return EncodeUtf8(out);
}

std::string PadTo(absl::string_view text, int width) {
  std::string out = Fit(text, width);
  const int w = DisplayWidth(out);
  if (w < width) out.append(static_cast<size_t>(width - w), ' ');
  return out;
}

std::vector<std::string> Wrap(absl::string_view text, int width) {
  std::vector<std::string> lines;
  if (width <= 0) return lines;
  const std::u32string cps = DecodeUtf8(text);
  std::u32string line;
  int line_width = 0;
  // Where the line could break: after its last space (index into `line`, or npos).
  size_t last_space = std::u32string::npos;
  auto flush = [&] {
    lines.push_back(OneLine(EncodeUtf8(line)));
    line.clear();
    line_width = 0;
    last_space = std::u32string::npos;
  };
  for (char32_t c : cps) {
    if (c == U'\n') {
      flush();
      continue;
    }
    const int w = CharWidth(c);
    if (line_width + w > width) {
      if (c == U' ') {  // a space at the edge: break here and drop it
        flush();
        continue;
      }
      if (last_space != std::u32string::npos) {
        std::u32string rest = line.substr(last_space + 1);
        line.resize(last_space);
        flush();
        line = rest;
        for (char32_t r : line) line_width += CharWidth(r);
        if (line_width + w > width) flush();  // a wide character after a long word
      } else {
        flush();
      }
    }
    if (c == U' ') last_space = line.size();
    line.push_back(c);
    line_width += w;
  }
  if (!line.empty() || lines.empty()) flush();
  return lines;
}

bool PopLastCodePoint(std::string* text) {
  if (text->empty()) return false;
  size_t i = text->size() - 1;
  while (i > 0 && (static_cast<unsigned char>((*text)[i]) & 0xC0) == 0x80) --i;
  text->resize(i);
  return true;
}

}  // namespace backline::cli::tray
