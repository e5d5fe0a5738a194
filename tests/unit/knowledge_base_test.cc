// The knowledge-base bot's search: terms in every language (case folding for European scripts,
// character bigrams for Chinese and Japanese), article parsing, language preference, BM25
// ranking, snippets — and the sample knowledge base of deploy/kb answering questions in Danish,
// Chinese, Dutch and Lithuanian with the article in that language.
#include "services/kb_bot/knowledge_base.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "services/kb_bot/text_analysis.h"
#include "tests/support/process.h"

namespace backline::kb {
namespace {

using Terms = std::vector<std::string>;

TEST(AnalyzeTextTest, FoldsCaseInEveryEuropeanScript) {
  EXPECT_EQ(AnalyzeText("Søren SØREN søren"), (Terms{"søren", "søren", "søren"}));
  EXPECT_EQ(AnalyzeText("SĄSKAITOS kopija"), (Terms{"sąskaitos", "kopija"}));
  EXPECT_EQ(AnalyzeText("Straße STRASSE"), (Terms{"strasse", "strasse"}));
  EXPECT_EQ(AnalyzeText("ΚΑΛΗΜΕΡΑ Καλημέρα"), (Terms{"καλημερα", "καλημέρα"}));
  // Full-width Latin and ligatures are their plain letters.
  EXPECT_EQ(AnalyzeText("ＦＡＫＴＵＲＡ ﬁle"), (Terms{"faktura", "file"}));
  // A decomposed é is the same term as a composed one.
  EXPECT_EQ(AnalyzeText("cafe\xCC\x81 café"), (Terms{"café", "café"}));
}

TEST(AnalyzeTextTest, SplitsOnPunctuationSpaceAndInvalidBytes) {
  EXPECT_EQ(AnalyzeText("faktura,betaling. (refusion)!"),
            (Terms{"faktura", "betaling", "refusion"}));
  EXPECT_EQ(AnalyzeText("kunde\xFF\xFEnummer 4711"), (Terms{"kunde", "nummer", "4711"}));
  EXPECT_TRUE(AnalyzeText("  ... --- !!! ").empty());
  EXPECT_TRUE(AnalyzeText("").empty());
}

TEST(AnalyzeTextTest, IdeographsBecomeBigrams) {
  EXPECT_EQ(AnalyzeText("退款申請"), (Terms{"退款", "款申", "申請"}));
  // A lone character is its own term; Latin inside Chinese text is a word of its own.
  EXPECT_EQ(AnalyzeText("錢"), (Terms{"錢"}));
  EXPECT_EQ(AnalyzeText("客戶VIP退款"), (Terms{"客戶", "vip", "退款"}));
  EXPECT_EQ(AnalyzeText("請問，退款"), (Terms{"請問", "退款"}));
  // Japanese kana too.
  EXPECT_EQ(AnalyzeText("カード"), (Terms{"カー", "ード"}));
}

TEST(ParseArticleTest, FrontMatterWins) {
  Article a = ParseArticle("da/refusion.md",
                           "---\ntitle: \"Refusion\"\nlang: da-DK\nlink: https://kb/x\n---\n"
                           "# Other heading\n\nFørste afsnit\nfortsat.\n\nAndet *afsnit*.\n");
  EXPECT_EQ(a.id, "da/refusion.md");
  EXPECT_EQ(a.title, "Refusion");
  EXPECT_EQ(a.language, "da-DK");
  EXPECT_EQ(a.link, "https://kb/x");
  EXPECT_EQ(a.passages, (Terms{"Other heading", "Første afsnit fortsat.", "Andet afsnit."}));
}

TEST(ParseArticleTest, TitleAndLanguageFromTheFile) {
  Article a = ParseArticle("zh-Hant/退款.md", "# 退款流程\n\n請先查詢帳單。\n");
  EXPECT_EQ(a.title, "退款流程");
  EXPECT_EQ(a.language, "zh-Hant");
  EXPECT_EQ(a.id, "zh-Hant/%E9%80%80%E6%AC%BE.md");
  Article b = ParseArticle("billing/refund.nl.md", "Geen kop.\n");
  EXPECT_EQ(b.title, "refund");
  EXPECT_EQ(b.language, "nl");
  Article c = ParseArticle("notes.txt", "plain text\n");
  EXPECT_EQ(c.language, "");
  EXPECT_EQ(c.title, "notes");
  // Ids stay within what the server accepts, and stay distinct.
  const std::string deep(300, 'x');
  Article d1 = ParseArticle(deep + "1.md", "x"), d2 = ParseArticle(deep + "2.md", "x");
  EXPECT_LE(d1.id.size(), 200u);
  EXPECT_NE(d1.id, d2.id);
}

TEST(StemTermTest, CutsLongWordsOnly) {
  EXPECT_EQ(StemTerm("fakturaen"), "faktu");
  EXPECT_EQ(StemTerm("sąskaitos"), "sąska");
  EXPECT_EQ(StemTerm("kunde"), "kunde");
  EXPECT_EQ(StemTerm("20240117"), "20240117");
  EXPECT_EQ(StemTerm("退款"), "退款");
}

TEST(LanguageSuitsTest, PrefixesAtSubtagBoundaries) {
  EXPECT_TRUE(LanguageSuits("da", "da-DK"));
  EXPECT_TRUE(LanguageSuits("zh-Hant", "zh"));
  EXPECT_TRUE(LanguageSuits("zh-hant", "zh-Hant"));
  EXPECT_TRUE(LanguageSuits("", "lt"));
  EXPECT_FALSE(LanguageSuits("zh-Hans", "zh-Hant"));
  EXPECT_FALSE(LanguageSuits("de", "da"));
  EXPECT_FALSE(LanguageSuits("d", "da"));
}

class SearchTest : public ::testing::Test {
 protected:
  static std::vector<Article> Articles() {
    return {ParseArticle("da/refusion.md", "# Refusion af faktura\n\nOpret en kreditnota.\n"),
            ParseArticle("da/adgangskode.md", "# Nulstil adgangskode\n\nSend et link.\n"),
            ParseArticle("en/refund.md", "# Refund of an invoice\n\nRaise a credit note.\n"),
            ParseArticle("zh-Hant/refund.md", "# 退款申請\n\n請先在帳務系統查詢帳單。\n"),
            ParseArticle("misc/faktura-en.md", "---\nlang: en\n---\n# Faktura in English\n\nx\n")};
  }
  static std::vector<std::string> Ids(const std::vector<Hit>& hits) {
    std::vector<std::string> out;
    for (const Hit& h : hits) out.push_back(h.article->id);
    return out;
  }
  KnowledgeBase kb_{Articles()};
};

TEST_F(SearchTest, RanksByBm25AndKeepsTheFloor) {
  SearchOptions o;
  auto hits = kb_.Search("kunden vil have refusion af sin faktura", o);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].article->id, "da/refusion.md");
  EXPECT_GT(hits[0].score, o.min_score);
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_LE(hits[i].score, hits[i - 1].score);
  EXPECT_TRUE(kb_.Search("xyzzy plugh", o).empty());
  o.min_score = 1000;
  EXPECT_TRUE(kb_.Search("refusion faktura", o).empty());
  o.min_score = 0;
  o.k = 1;
  EXPECT_EQ(kb_.Search("refusion faktura", o).size(), 1u);
  // Weak matches behind a strong one are dropped: "faktura" alone is a fraction of the score
  // of "refusion af faktura".
  o.k = 10;
  o.min_relative = 0;
  auto all = kb_.Search("refusion af faktura", o);
  ASSERT_EQ(all.size(), 2u);
  o.min_relative = all[1].score / all[0].score + 0.01;
  EXPECT_EQ(kb_.Search("refusion af faktura", o).size(), 1u);
}

TEST_F(SearchTest, AChineseQuestionFindsTheChineseArticle) {
  SearchOptions o;
  o.language = "zh-Hant";
  auto hits = kb_.Search("客戶想要退款，帳單已經付了", o);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].article->id, "zh-Hant/refund.md");
  EXPECT_EQ(hits[0].snippet, "請先在帳務系統查詢帳單。");
}

TEST_F(SearchTest, TheConversationsLanguageNarrowsOrBoosts) {
  SearchOptions o;
  o.min_score = 0;
  o.min_relative = 0;
  o.k = 10;
  // "faktura" is in a Danish and an English article; Danish first for a Danish conversation.
  o.language = "da";
  auto boosted = kb_.Search("faktura", o);
  ASSERT_EQ(Ids(boosted).size(), 2u);
  EXPECT_EQ(boosted[0].article->id, "da/refusion.md");
  o.language = "en";
  EXPECT_EQ(kb_.Search("faktura", o)[0].article->id, "misc/faktura-en.md");
  o.mode = LanguageMode::kNarrow;
  EXPECT_EQ(Ids(kb_.Search("faktura", o)), (std::vector<std::string>{"misc/faktura-en.md"}));
  o.language = "lt";
  EXPECT_TRUE(kb_.Search("faktura", o).empty());
}

TEST_F(SearchTest, TheSnippetIsThePassageThatMatched) {
  KnowledgeBase kb({ParseArticle("a.md",
                                 "# Faktura\n\nFørste afsnit om levering.\n\n"
                                 "Her står, hvordan en kreditnota oprettes.\n")});
  SearchOptions o;
  o.min_score = 0;
  auto hits = kb.Search("kreditnota", o);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].snippet, "Her står, hvordan en kreditnota oprettes.");
  // Long passages are cut at a character boundary.
  std::string long_text(299, 'x');  // byte 300 falls inside the first ø
  for (int i = 0; i < 100; ++i) long_text += "ø";
  KnowledgeBase big({ParseArticle("b.md", "# T\n\n" + long_text + " kreditnota\n")});
  auto cut = big.Search("kreditnota", o);
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_LE(cut[0].snippet.size(), 304u);
  EXPECT_EQ(cut[0].snippet.substr(cut[0].snippet.size() - 3), "…");
}

// The sample knowledge base shipped in deploy/kb.
class SampleKnowledgeBaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto kb = KnowledgeBase::Load(std::string(BACKLINE_SOURCE_DIR) + "/deploy/kb");
    ASSERT_TRUE(kb.ok()) << kb.status();
    kb_ = std::move(*kb).release();
  }
  static void TearDownTestSuite() { delete kb_; }
  static std::string Top(const std::string& question, const std::string& language) {
    SearchOptions o;
    o.language = language;
    auto hits = kb_->Search(question, o);
    return hits.empty() ? "" : hits[0].article->id;
  }
  static KnowledgeBase* kb_;
};
KnowledgeBase* SampleKnowledgeBaseTest::kb_ = nullptr;

TEST_F(SampleKnowledgeBaseTest, EveryLanguageFindsItsOwnArticle) {
  EXPECT_GE(kb_->size(), 10u);
  EXPECT_EQ(Top("Kunden spørger om en refusion af sidste faktura", "da"),
            "da/refusion-af-faktura.md");
  EXPECT_EQ(Top("Kunden har betalt den samme faktura to gange", "da"), "da/dobbelt-betaling.md");
  EXPECT_EQ(Top("客戶要求退款，請問流程是什麼？", "zh-Hant"),
            "zh-Hant/%E9%80%80%E6%AC%BE%E7%94%B3%E8%AB%8B.md");
  EXPECT_EQ(Top("De klant heeft de factuur niet ontvangen", "nl"), "nl/factuur-niet-ontvangen.md");
  EXPECT_EQ(Top("Klientas prašo sąskaitos kopijos", "lt"), "lt/saskaitos-kopija.md");
  EXPECT_EQ(Top("The customer cannot hear me through the headset", "en"), "en/headset-no-audio.md");
  EXPECT_EQ(Top("zzz qqq", "da"), "");
}

TEST(KnowledgeBaseLoadTest, ReadsAFolderAndNoticesChanges) {
  const ::backline::testing::TempDir tmp("backline-kb");
  const std::string& dir = tmp.path();
  ASSERT_EQ(::mkdir((dir + "/da").c_str(), 0755), 0);
  std::ofstream(dir + "/da/a.md") << "# Faktura\n\nkreditnota\n";
  std::ofstream(dir + "/ignored.pdf") << "not an article";
  std::ofstream(dir + "/.hidden.md") << "# editor swap file\n";
  auto before = SnapshotFolder(dir);
  ASSERT_TRUE(before.ok());
  auto kb = KnowledgeBase::Load(dir);
  ASSERT_TRUE(kb.ok());
  ASSERT_EQ((*kb)->size(), 1u);
  EXPECT_EQ((*kb)->articles()[0].language, "da");
  std::ofstream(dir + "/b.txt") << "another\n";
  auto after = SnapshotFolder(dir);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
  EXPECT_EQ(KnowledgeBase::Load(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  testing::RunProcess({"/bin/rm", "-rf", dir});
}

}  // namespace
}  // namespace backline::kb
