// backline-kb-bench: the knowledge-base bot's index on a 10,000-article knowledge base — how long
// reading and indexing the folder takes, the memory it holds, and the latency of one search (the
// bot's work per escalation, before it posts).
//
// The articles are made from the words of the seed articles (tests/data/seeds: Danish, Chinese,
// Dutch, Lithuanian), drawn with a Zipf-like skew so that some words are common and most are
// rare, as in real text; each query is a few words of one article, as an agent's question would
// share words with the article that answers it.
//
//   backline-kb-bench --seeds tests/data/seeds --articles 10000 --queries 2000 [--json_out F]
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/stats.h"
#include "services/kb_bot/knowledge_base.h"
#include "services/kb_bot/text_analysis.h"

ABSL_FLAG(std::string, seeds, "tests/data/seeds", "folder of seed texts to draw words from");
ABSL_FLAG(int, articles, 10000, "articles in the generated knowledge base");
ABSL_FLAG(int, queries, 2000, "searches to time");
ABSL_FLAG(std::string, json_out, "", "also write the rows as JSON to this file");

namespace backline::bench {
namespace {

long ResidentKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Each seed file's words (for Chinese: its runs of two to four characters), by language.
struct Vocabulary {
  std::string language;
  std::vector<std::string> words;
};

std::vector<Vocabulary> ReadSeeds(const std::string& dir) {
  std::vector<Vocabulary> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() < 5 || name.substr(name.size() - 4) != ".txt") continue;
    std::ifstream in(dir + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    Vocabulary v;
    v.language = name.substr(0, name.find('-') == 2 ? 2 : name.find('-', 3));
    for (std::string& t : kb::AnalyzeText(ss.str())) v.words.push_back(std::move(t));
    if (!v.words.empty()) out.push_back(std::move(v));
  }
  closedir(d);
  return out;
}

// A word of `v`, the i-th most likely with probability ~ 1/i.
const std::string& ZipfWord(const Vocabulary& v, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, std::log(static_cast<double>(v.words.size())));
  const size_t i = static_cast<size_t>(std::exp(u(rng))) - 1;
  return v.words[std::min(i, v.words.size() - 1)];
}

std::string Words(const Vocabulary& v, int n, std::mt19937_64& rng) {
  std::vector<std::string> w;
  for (int i = 0; i < n; ++i) w.push_back(ZipfWord(v, rng));
  return absl::StrJoin(w, v.language == "zh" ? "" : " ");
}

int Run() {
  std::vector<Vocabulary> seeds = ReadSeeds(absl::GetFlag(FLAGS_seeds));
  if (seeds.empty()) {
    std::cerr << "no seed texts in " << absl::GetFlag(FLAGS_seeds) << "\n";
    return 1;
  }
  char tmpl[] = "/tmp/backline-kb-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const int n = absl::GetFlag(FLAGS_articles);
  std::mt19937_64 rng(42);
  std::vector<std::string> questions;
  int64_t bytes = 0;
  for (const Vocabulary& v : seeds) ::mkdir((dir + "/" + v.language).c_str(), 0755);
  for (int i = 0; i < n; ++i) {
    const Vocabulary& v = seeds[i % seeds.size()];
    std::string text = absl::StrCat("# ", Words(v, 6, rng), "\n\n");
    for (int p = 0; p < 4; ++p) absl::StrAppend(&text, Words(v, 20 + rng() % 60, rng), "\n\n");
    bytes += static_cast<int64_t>(text.size());
    std::ofstream(absl::StrCat(dir, "/", v.language, "/article-", i, ".md")) << text;
  }
  const int q = absl::GetFlag(FLAGS_queries);
  std::vector<std::pair<std::string, std::string>> queries;  // question, language
  for (int i = 0; i < q; ++i) {
    const Vocabulary& v = seeds[rng() % seeds.size()];
    queries.emplace_back(Words(v, 4 + static_cast<int>(rng() % 6), rng), v.language);
  }

  std::vector<Row> rows;
  const long rss_before = ResidentKiB();
  Row build(absl::StrFormat("read and index %d articles (%.1f MiB) from disk", n,
                            bytes / 1048576.0));
  std::unique_ptr<kb::KnowledgeBase> kb;
  for (int round = 0; round < 3; ++round) {
    kb.reset();
    const absl::Time start = absl::Now();
    auto loaded = kb::KnowledgeBase::Load(dir);
    build.samples.Add(absl::Now() - start);
    if (!loaded.ok()) {
      std::cerr << loaded.status() << "\n";
      return 1;
    }
    kb = std::move(*loaded);
  }
  const long rss_after = ResidentKiB();
  build.note = absl::StrFormat("%zu articles; index resident memory %.1f MiB", kb->size(),
                               (rss_after - rss_before) / 1024.0);
  rows.push_back(std::move(build));

  Row search(absl::StrFormat("search (top 3, language boost), %d queries of 4-9 words", q));
  int found = 0;
  for (const auto& [question, language] : queries) {
    kb::SearchOptions o;
    o.language = language;
    const absl::Time start = absl::Now();
    auto hits = kb->Search(question, o);
    search.samples.Add(absl::Now() - start);
    found += !hits.empty();
  }
  search.note = absl::StrFormat("%d of %d found at least one article", found, q);
  rows.push_back(std::move(search));

  std::cout << "## Knowledge-base bot\n\n" << MarkdownTable(rows) << "\n";
  if (const std::string out = absl::GetFlag(FLAGS_json_out); !out.empty()) {
    std::ofstream(out) << Json(rows) << "\n";
  }
  if (std::system(absl::StrCat("rm -rf '", dir, "'").c_str()) != 0) {
    std::cerr << "could not remove " << dir << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace backline::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return backline::bench::Run();
}
