// A knowledge base as the bot sees it: a folder of articles (Markdown or plain text, any
// language) read into memory and ranked with BM25 against an escalation's question.
//
// An article is one file (`*.md`, `*.markdown`, `*.txt`, at most 1 MiB), optionally opening with
// front matter:
//
//   ---
//   title: Refunds after a double charge
//   lang: da
//   link: https://kb.example/refunds
//   ---
//   body...
//
// Without it the title is the first `# ` heading (else the file name), the language is the
// first folder of the path when that is a language tag (`da/`, `zh-Hant/`) or the second
// extension (`refund.da.md`), and there is no link. The article id is the path below the folder,
// percent-encoded to `[A-Za-z0-9._/%-]` (what the server takes as an article id).
//
//   auto kb = KnowledgeBase::Load("/srv/kb");
//   SearchOptions o;  o.language = "da";
//   for (const Hit& h : kb->Search("kunden har betalt to gange", o)) ...
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace backline::kb {

struct Article {
  std::string id;
  std::string title;
  std::string language;  // BCP-47, or empty: any language
  std::string link;
  // Paragraphs of the body (Markdown markers removed), for snippets.
  std::vector<std::string> passages;
};

// Parses one file: `relative_path` below the folder, `content` its bytes.
Article ParseArticle(absl::string_view relative_path, absl::string_view content);

// Whether an article in `article_language` suits a conversation in `language`: the same tag,
// or one is a prefix of the other at a subtag boundary (`da` suits `da-DK`; `zh-Hant` suits `zh`).
bool LanguageSuits(absl::string_view article_language, absl::string_view language);

enum class LanguageMode {
  // Articles in the conversation's language score `language_boost` times higher; others stay.
  kBoost,
  // Only articles in the conversation's language (and those without a language) are found.
  kNarrow,
};

struct SearchOptions {
  // The conversation's language (empty: no preference).
  std::string language;
  LanguageMode mode = LanguageMode::kBoost;
  double language_boost = 1.5;
  // At most this many hits, each scoring at least `min_score` and at least `min_relative` of the
  // best hit's score (so that a strong match is not followed by weak ones).
  int k = 3;
  double min_score = 1.0;
  double min_relative = 0.4;
};

struct Hit {
  const Article* article = nullptr;
  double score = 0;
  // The passage that matched best, at most ~300 bytes.
  std::string snippet;
};

// Files of a folder and their modification times and sizes: a change in any means reloading.
using FolderSnapshot = std::map<std::string, std::pair<int64_t, int64_t>>;
absl::StatusOr<FolderSnapshot> SnapshotFolder(const std::string& dir);

// An immutable BM25 index over a set of articles (k1 = 1.2, b = 0.75; title terms count twice;
// terms stemmed with StemTerm on both sides).
// Thread-safe for concurrent searches.
class KnowledgeBase {
 public:
  explicit KnowledgeBase(std::vector<Article> articles);
  // Reads every article below `dir`. NOT_FOUND when `dir` is not a readable folder.
  static absl::StatusOr<std::unique_ptr<KnowledgeBase>> Load(const std::string& dir);

  // The best articles for `query`, best first.
  std::vector<Hit> Search(absl::string_view query, const SearchOptions& options) const;

  size_t size() const { return articles_.size(); }
  const std::vector<Article>& articles() const { return articles_; }

 private:
  struct Posting {
    uint32_t article;
    uint32_t count;
  };
  double Idf(size_t postings) const;
  std::string Snippet(const Article& a, const std::vector<std::string>& terms,
                      const std::vector<double>& weights) const;

  std::vector<Article> articles_;
  std::vector<uint32_t> length_;  // terms per article
  double average_length_ = 0;
  absl::flat_hash_map<std::string, std::vector<Posting>> postings_;
};

}  // namespace backline::kb
