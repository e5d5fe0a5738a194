#include "services/kb_bot/knowledge_base.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/stable_hash.h"
#include "services/kb_bot/text_analysis.h"

namespace backline::kb {
namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kSnippetBytes = 300;
constexpr size_t kMaxIdBytes = 200;

// `da`, `nl`, `zh-Hant`, `pt-BR`, `zh-Hant-TW`: a language subtag of 2-3 letters, then subtags
// of 2-8 letters or digits.
bool LooksLikeLanguageTag(absl::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, '-');
  if (parts[0].size() < 2 || parts[0].size() > 3) return false;
  for (char c : parts[0]) {
    if (!absl::ascii_isalpha(c)) return false;
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].size() < 2 || parts[i].size() > 8) return false;
    for (char c : parts[i]) {
      if (!absl::ascii_isalnum(c)) return false;
    }
  }
  return true;
}

std::string ArticleId(absl::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id;
  for (unsigned char c : path) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-') {
      id.push_back(static_cast<char>(c));
    } else {
      id.push_back('%');
      id.push_back(kHex[c >> 4]);
      id.push_back(kHex[c & 15]);
    }
  }
  if (id.size() > kMaxIdBytes) {
    // Long paths keep their start and a hash of the whole, so ids stay unique and stable.
    const uint64_t h = StableHash(path);
    std::string tail = "-";
    for (int i = 15; i >= 0; --i) tail.push_back(kHex[(h >> (i * 4)) & 15]);
    id.resize(kMaxIdBytes - tail.size());
    while (!id.empty() && id.back() == '%') id.pop_back();  // no cut escape
    if (id.size() >= 2 && id[id.size() - 2] == '%') id.resize(id.size() - 2);
    id += tail;
  }
  return id;
}

// The stemmed terms of `text`.
std::vector<std::string> StemmedTerms(absl::string_view text) {
  std::vector<std::string> terms = AnalyzeText(text);
  for (std::string& t : terms) t = StemTerm(t);
  return terms;
}

// At most `max` bytes of `s`, cut at a character boundary, with an ellipsis when cut.
std::string Clip(absl::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(absl::StripTrailingAsciiWhitespace(s.substr(0, end)), "…");
}

// A Markdown line without its block markers (headings, quotes, list bullets) and emphasis.
std::string PlainLine(absl::string_view line) {
  line = absl::StripAsciiWhitespace(line);
  while (!line.empty() && (line[0] == '#' || line[0] == '>')) {
    line.remove_prefix(1);
    line = absl::StripLeadingAsciiWhitespace(line);
  }
  if (absl::StartsWith(line, "- ") || absl::StartsWith(line, "* ") ||
      absl::StartsWith(line, "+ ")) {
    line.remove_prefix(2);
  }
  std::string out;
  for (char c : line) {
    if (c != '*' && c != '`' && c != '_') out.push_back(c);
  }
  return out;
}

void ReadFrontMatter(absl::string_view* content, Article* a) {
  absl::string_view c = *content;
  if (absl::StartsWith(c, "\xEF\xBB\xBF")) c.remove_prefix(3);  // a byte-order mark
  if (!absl::StartsWith(c, "---\n") && !absl::StartsWith(c, "---\r\n")) {
    *content = c;
    return;
  }
  const size_t first = c.find('\n') + 1;
  size_t end = c.find("\n---", first - 1);
  if (end == absl::string_view::npos) {
    *content = c;
    return;
  }
  for (absl::string_view line : absl::StrSplit(c.substr(first, end - first), '\n')) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "title") a->title = value;
    if (key == "lang" || key == "language") a->language = value;
    if (key == "link" || key == "url") a->link = value;
  }
  const size_t after = c.find('\n', end + 1);
  *content = after == absl::string_view::npos ? absl::string_view() : c.substr(after + 1);
}

std::string LanguageFromPath(absl::string_view path) {
  const size_t slash = path.find('/');
  if (slash != absl::string_view::npos && LooksLikeLanguageTag(path.substr(0, slash))) {
    return std::string(path.substr(0, slash));
  }
  // name.<lang>.md
  absl::string_view name = path.substr(path.rfind('/') == absl::string_view::npos
                                           ? 0
                                           : path.rfind('/') + 1);
  std::vector<absl::string_view> dots = absl::StrSplit(name, '.');
  if (dots.size() >= 3 && LooksLikeLanguageTag(dots[dots.size() - 2])) {
    return std::string(dots[dots.size() - 2]);
  }
  return "";
}

bool IsArticleFile(absl::string_view name) {
  return absl::EndsWith(name, ".md") || absl::EndsWith(name, ".markdown") ||
         absl::EndsWith(name, ".txt");
}

// Relative paths of the article files below `dir` (recursively, sorted); false if unreadable.
bool ListArticleFiles(const std::string& dir, const std::string& prefix,
                      std::vector<std::string>* out, int depth = 0) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;  // ., .., hidden files and editors' swap files
    names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string full = dir + "/" + name;
    struct stat st;
    if (stat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth < 16) ListArticleFiles(full, prefix + name + "/", out, depth + 1);
    } else if (S_ISREG(st.st_mode) && IsArticleFile(name)) {
      out->push_back(prefix + name);
    }
  }
  return true;
}

}  // namespace

bool LanguageSuits(absl::string_view article_language, absl::string_view language) {
  const std::string a = absl::AsciiStrToLower(article_language);
  const std::string l = absl::AsciiStrToLower(language);
  if (a.empty() || l.empty() || a == l) return true;
  return absl::StartsWith(l, a + "-") || absl::StartsWith(a, l + "-");
}

Article ParseArticle(absl::string_view relative_path, absl::string_view content) {
  Article a;
  a.id = ArticleId(relative_path);
  ReadFrontMatter(&content, &a);
  std::string paragraph;
  auto end_paragraph = [&] {
    if (!paragraph.empty()) a.passages.push_back(std::move(paragraph));
    paragraph.clear();
  };
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || absl::StartsWith(trimmed, "```")) {
      end_paragraph();
      continue;
    }
    if (absl::StartsWith(trimmed, "#")) {
      end_paragraph();
      std::string heading = PlainLine(trimmed);
      if (a.title.empty() && absl::StartsWith(trimmed, "# ")) {
        a.title = heading;
      } else if (!heading.empty()) {
        a.passages.push_back(std::move(heading));
      }
      continue;
    }
    if (!paragraph.empty()) paragraph.push_back(' ');
    paragraph += PlainLine(trimmed);
  }
  end_paragraph();
  if (a.title.empty()) {
    absl::string_view name = relative_path.substr(
        relative_path.rfind('/') == absl::string_view::npos ? 0 : relative_path.rfind('/') + 1);
    a.title = std::string(name.substr(0, name.find('.')));
  }
  if (a.language.empty()) a.language = LanguageFromPath(relative_path);
  return a;
}

absl::StatusOr<FolderSnapshot> SnapshotFolder(const std::string& dir) {
  std::vector<std::string> files;
  if (!ListArticleFiles(dir, "", &files)) {
    return absl::NotFoundError(absl::StrCat("cannot read the knowledge-base folder ", dir));
  }
  FolderSnapshot out;
  for (const std::string& f : files) {
    struct stat st;
    if (stat((dir + "/" + f).c_str(), &st) != 0) continue;
    out[f] = {static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
              static_cast<int64_t>(st.st_size)};
  }
  return out;
}

absl::StatusOr<std::unique_ptr<KnowledgeBase>> KnowledgeBase::Load(const std::string& dir) {
  std::vector<std::string> files;
  if (!ListArticleFiles(dir, "", &files)) {
    return absl::NotFoundError(absl::StrCat("cannot read the knowledge-base folder ", dir));
  }
  std::vector<Article> articles;
  for (const std::string& f : files) {
    std::ifstream in(dir + "/" + f, std::ios::binary);
    if (!in) continue;  // vanished or unreadable since listed
    std::string content(kMaxFileBytes + 1, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (static_cast<size_t>(in.gcount()) > kMaxFileBytes) continue;
    content.resize(static_cast<size_t>(in.gcount()));
    articles.push_back(ParseArticle(f, content));
  }
  return std::make_unique<KnowledgeBase>(std::move(articles));
}

KnowledgeBase::KnowledgeBase(std::vector<Article> articles) : articles_(std::move(articles)) {
  length_.resize(articles_.size());
  uint64_t total = 0;
  for (uint32_t i = 0; i < articles_.size(); ++i) {
    const Article& a = articles_[i];
    absl::flat_hash_map<std::string, uint32_t> counts;
    uint32_t length = 0;
    for (std::string& t : StemmedTerms(a.title)) {
      counts[std::move(t)] += 2;
      length += 2;
    }
    for (const std::string& p : a.passages) {
      for (std::string& t : StemmedTerms(p)) {
        ++counts[std::move(t)];
        ++length;
      }
    }
    for (auto& [term, count] : counts) postings_[term].push_back({i, count});
    length_[i] = length;
    total += length;
  }
  average_length_ = articles_.empty() ? 0 : static_cast<double>(total) / articles_.size();
}

double KnowledgeBase::Idf(size_t postings) const {
  const double n = static_cast<double>(articles_.size());
  const double df = static_cast<double>(postings);
  return std::log(1 + (n - df + 0.5) / (df + 0.5));
}

std::vector<Hit> KnowledgeBase::Search(absl::string_view query,
                                       const SearchOptions& options) const {
  // Each distinct query term once: a question that repeats a word does not weigh it more.
  std::vector<std::string> terms;
  for (std::string& t : StemmedTerms(query)) {
    if (std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(std::move(t));
  }
  std::vector<double> weights;
  absl::flat_hash_map<uint32_t, double> scores;
  for (const std::string& t : terms) {
    auto it = postings_.find(t);
    if (it == postings_.end()) {
      weights.push_back(0);
      continue;
    }
    const double idf = Idf(it->second.size());
    weights.push_back(idf);
    for (const Posting& p : it->second) {
      const double tf = p.count;
      const double norm = kK1 * (1 - kB + kB * length_[p.article] / average_length_);
      scores[p.article] += idf * tf * (kK1 + 1) / (tf + norm);
    }
  }
  std::vector<Hit> hits;
  for (const auto& [i, raw] : scores) {
    const Article& a = articles_[i];
    double score = raw;
    if (!options.language.empty() && !a.language.empty()) {
      const bool suits = LanguageSuits(a.language, options.language);
      if (!suits && options.mode == LanguageMode::kNarrow) continue;
      if (suits) score *= options.language_boost;
    }
    if (score < options.min_score) continue;
    hits.push_back({&a, score, ""});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
    return x.score != y.score ? x.score > y.score : x.article->id < y.article->id;
  });
  if (hits.size() > static_cast<size_t>(std::max(options.k, 0))) hits.resize(options.k);
  while (!hits.empty() && hits.back().score < hits.front().score * options.min_relative) {
    hits.pop_back();
  }
  for (Hit& h : hits) h.snippet = Snippet(*h.article, terms, weights);
  return hits;
}

std::string KnowledgeBase::Snippet(const Article& a, const std::vector<std::string>& terms,
                                   const std::vector<double>& weights) const {
  if (a.passages.empty()) return "";
  size_t best = 0;
  double best_score = -1;
  for (size_t i = 0; i < a.passages.size(); ++i) {
    const std::vector<std::string> words = StemmedTerms(a.passages[i]);
    double s = 0;
    for (size_t t = 0; t < terms.size(); ++t) {
      if (std::find(words.begin(), words.end(), terms[t]) != words.end()) s += weights[t];
    }
    if (s > best_score) {
      best_score = s;
      best = i;
    }
  }
  return Clip(a.passages[best], kSnippetBytes);
}

}  // namespace backline::kb
