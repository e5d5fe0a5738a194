// backline-kb-bot, the real binary, against a real server: a new escalation gets the best
// articles of the sample knowledge base (deploy/kb) in its thread before anyone accepts — the
// Chinese question the Chinese article, the Danish one the Danish article; a question matching
// nothing gets nothing (or the configured "no match" note, once); a bot killed with SIGKILL
// and started again misses no escalation and posts nothing twice; a changed article is found
// without a restart; `backline admin token --bot` issues its token.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

class KbBotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
    stack_->ApplyRoster({
        MakePerson("anna", v1::ROLE_AGENT, {}, {"da", "zh-Hant", "nl"}),
        MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "zh-Hant", "nl"}),
        MakePerson("kb", v1::ROLE_BOT, {}, {}),
        MakePerson("eva", v1::ROLE_SUPERVISOR, {}, {"da"}),
    });
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    // The token as an admin would issue it.
    ProcessResult token =
        RunProcess({BACKLINE_CLI_PATH, "admin", "token", "--bot", "kb"},
                   {{"BACKLINE_TOKEN_SECRET", kTestSecret}, {"BACKLINE_CONFIG", dir_ + "/none"}});
    ASSERT_EQ(token.exit_code, 0) << token.err;
    std::ofstream(dir_ + "/kb.token") << token.out;
  }
  void TearDown() override { bot_.reset(); }

  // Starts the bot on `kb_dir` and waits until its subscription is stored.
  void StartBot(const std::string& kb_dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {BACKLINE_KB_BOT_PATH,
                                     "--target",
                                     stack_->target(),
                                     "--token_file",
                                     dir_ + "/kb.token",
                                     "--kb",
                                     kb_dir,
                                     "--state_file",
                                     dir_ + "/cursor",
                                     "--rescan_seconds",
                                     "0.2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    SharedRedis().Command({"HDEL", "bl:bots", "kb"});
    bot_ = std::make_unique<BackgroundProcess>(argv);
    const absl::Time end = absl::Now() + kWait;
    while (SharedRedis().Command({"HEXISTS", "bl:bots", "kb"}).AsInteger() == 0) {
      ASSERT_LT(absl::Now(), end) << "the bot never subscribed";
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  std::string Escalate(const std::string& question, const std::string& language) {
    v1::CreateEscalationRequest r;
    r.set_question(question);
    r.set_language(language);
    r.add_skills()->set_skill("billing");
    auto e = anna_->Escalate(r);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? e->id() : "";
  }

  std::vector<v1::Message> Messages(const std::string& escalation) {
    v1::ListMessagesRequest r;
    r.set_thread_id(absl::StrCat("thr-", escalation.substr(4)));
    auto list = anna_->ListMessages(r);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? std::vector<v1::Message>(list->messages().begin(), list->messages().end())
                     : std::vector<v1::Message>();
  }
  std::vector<v1::Message> Hits(const std::string& escalation) {
    std::vector<v1::Message> out;
    for (v1::Message& m : Messages(escalation)) {
      if (m.kind() == v1::MESSAGE_KIND_KB_HIT) out.push_back(std::move(m));
    }
    return out;
  }
  // Waits until the escalation's thread has at least one message from the bot.
  bool Answered(const std::string& escalation) {
    const absl::Time end = absl::Now() + kWait;
    while (absl::Now() < end) {
      for (const v1::Message& m : Messages(escalation)) {
        if (m.sender() == "kb") return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string SampleKb() const { return std::string(BACKLINE_SOURCE_DIR) + "/deploy/kb"; }

  TempDir tmp_{"backline-kbbot"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<BackgroundProcess> bot_;
};

TEST_F(KbBotTest, HitsInTheQuestionsLanguageArriveBeforeAnyAccept) {
  StartBot(SampleKb());
  const std::string zh = Escalate("客戶要求退款，請問流程是什麼？", "zh-Hant");
  const std::string da = Escalate("Kunden spørger om en refusion af sidste faktura", "da");
  ASSERT_TRUE(Answered(zh));
  ASSERT_TRUE(Answered(da));

  auto zh_hits = Hits(zh);
  ASSERT_FALSE(zh_hits.empty());
  EXPECT_EQ(zh_hits[0].kb_hit().article_id(), "zh-Hant/%E9%80%80%E6%AC%BE%E7%94%B3%E8%AB%8B.md");
  EXPECT_EQ(zh_hits[0].kb_hit().title(), "客戶申請退款的處理流程");
  EXPECT_NE(zh_hits[0].kb_hit().snippet().find("退款"), std::string::npos);
  EXPECT_EQ(zh_hits[0].kb_hit().source(), "kb");
  auto da_hits = Hits(da);
  ASSERT_FALSE(da_hits.empty());
  EXPECT_EQ(da_hits[0].kb_hit().article_id(), "da/refusion-af-faktura.md");
  EXPECT_EQ(da_hits[0].kb_hit().link(), "https://kb.backline.example/da/refusion-af-faktura");
  EXPECT_LE(da_hits.size(), 3u);
  for (size_t i = 1; i < da_hits.size(); ++i) {
    EXPECT_LE(da_hits[i].kb_hit().score(), da_hits[i - 1].kb_hit().score());
  }
  // Nobody was available: both still wait for a helper, independent of the hits.
  EXPECT_EQ(anna_->GetEscalation(zh)->state(), v1::ESCALATION_STATE_QUEUED);
  EXPECT_EQ(anna_->GetEscalation(da)->state(), v1::ESCALATION_STATE_QUEUED);
}

TEST_F(KbBotTest, AQuestionMatchingNothingGetsNothing) {
  StartBot(SampleKb());
  const std::string nothing = Escalate("xyzzy plugh quux", "da");
  // The bot answers in order: once the next one is answered, the first was handled.
  const std::string after = Escalate("Kunden har betalt den samme faktura to gange", "da");
  ASSERT_TRUE(Answered(after));
  EXPECT_TRUE(Messages(nothing).empty());
}

TEST_F(KbBotTest, ANoMatchNoteWhenConfiguredOncePerEscalation) {
  StartBot(SampleKb(), {"--no_match_text", "Ingen artikler matchede spørgsmålet."});
  const std::string nothing = Escalate("xyzzy plugh quux", "da");
  ASSERT_TRUE(Answered(nothing));
  auto m = Messages(nothing);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].kind(), v1::MESSAGE_KIND_TEXT);
  EXPECT_EQ(m[0].text(), "Ingen artikler matchede spørgsmålet.");
  // Started again without its cursor, it handles the escalation again: still one note.
  bot_.reset();
  ::unlink((dir_ + "/cursor").c_str());
  StartBot(SampleKb(), {"--no_match_text", "Ingen artikler matchede spørgsmålet."});
  const std::string next = Escalate("qqq zzz", "da");
  ASSERT_TRUE(Answered(next));
  EXPECT_EQ(Messages(nothing).size(), 1u);
}

TEST_F(KbBotTest, AKilledBotMissesNothingAndPostsNothingTwice) {
  StartBot(SampleKb());
  const std::vector<std::pair<std::string, std::string>> questions = {
      {"Kunden spørger om en refusion af sidste faktura", "da"},
      {"客戶要求退款，請問流程是什麼？", "zh-Hant"},
      {"De klant heeft de factuur niet ontvangen", "nl"},
      {"Kunden har betalt den samme faktura to gange", "da"}};
  std::vector<std::string> ids;
  // A burst, with the bot killed in the middle of it, and more while it is down.
  for (int i = 0; i < 12; ++i) {
    const auto& [q, lang] = questions[i % questions.size()];
    ids.push_back(Escalate(q, lang));
    if (i == 5) {
      ASSERT_NE(bot_->Stop(SIGKILL), -1);
    }
  }
  bot_.reset();
  StartBot(SampleKb());
  std::map<std::string, size_t> hits;
  for (const std::string& id : ids) {
    ASSERT_TRUE(Answered(id)) << id << " was missed";
  }
  // Every escalation got its hits, each article once.
  for (const std::string& id : ids) {
    std::set<std::string> articles;
    for (const v1::Message& m : Hits(id)) {
      EXPECT_TRUE(articles.insert(m.kb_hit().article_id()).second)
          << id << ": " << m.kb_hit().article_id() << " posted twice";
    }
    EXPECT_FALSE(articles.empty()) << id;
    hits[id] = articles.size();
  }
  // Restarted once more from its saved cursor, it posts nothing new.
  bot_.reset();
  StartBot(SampleKb());
  const std::string probe = Escalate("Kunden spørger om en refusion af sidste faktura", "da");
  ASSERT_TRUE(Answered(probe));
  for (const std::string& id : ids) EXPECT_EQ(Hits(id).size(), hits[id]) << id;
}

TEST_F(KbBotTest, AChangedArticleIsFoundWithoutARestart) {
  const std::string kb = dir_ + "/kb";
  ASSERT_EQ(::mkdir(kb.c_str(), 0755), 0);
  std::ofstream(kb + "/headset.en.md") << "# Headset has no sound\n\nTry another USB port.\n";
  StartBot(kb);
  const std::string before = Escalate("Kunden kan ikke logge ind på Min Side", "da");
  const std::string probe = Escalate("headset no sound", "en");
  ASSERT_TRUE(Answered(probe));
  EXPECT_TRUE(Hits(before).empty());
  std::ofstream(kb + "/login.da.md") << "# Kunden kan ikke logge ind\n\nSend et nyt link.\n";
  // Re-read within the rescan interval; an escalation after that finds it. (The bot answers in
  // order, so once the probe after it is answered, it was handled.)
  const absl::Time end = absl::Now() + kWait;
  std::string after;
  while (absl::Now() < end) {
    after = Escalate("Kunden kan ikke logge ind på Min Side", "da");
    ASSERT_TRUE(Answered(Escalate("headset no sound", "en")));
    if (!Hits(after).empty()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  auto found = Hits(after);
  ASSERT_FALSE(found.empty()) << "the new article was never found";
  EXPECT_EQ(found[0].kb_hit().article_id(), "login.da.md");
}

TEST_F(KbBotTest, TheCliShowsMarksAndCountsHits) {
  StartBot(SampleKb(), {"--k", "1"});
  const std::string da = Escalate("Kunden spørger om en refusion af sidste faktura", "da");
  ASSERT_TRUE(Answered(da));
  auto backline = [&](const std::string& who, v1::Role role, std::vector<std::string> args) {
    std::vector<std::string> argv = {BACKLINE_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {{"BACKLINE_TARGET", stack_->target()},
                             {"BACKLINE_TOKEN", stack_->Token(who, role)},
                             {"BACKLINE_CONFIG", dir_ + "/none"}});
  };
  ProcessResult r = backline("anna", v1::ROLE_AGENT, {"history", da});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("#1 kb [hit "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("] Refusion af en faktura: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<https://kb.backline.example/da/refusion-af-faktura>"), std::string::npos)
      << r.out;
  r = backline("anna", v1::ROLE_AGENT, {"rate", da, "#1", "helpful"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "#1: 1 helpful, 0 not helpful\n");
  r = backline("anna", v1::ROLE_AGENT, {"rate", da, "1", "maybe"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = backline("kb", v1::ROLE_BOT, {"rate", da, "1", "helpful"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  r = backline("eva", v1::ROLE_SUPERVISOR, {"stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kb da/refusion-af-faktura.md: 1 posted, 1 / 0  Refusion af en faktura"),
            std::string::npos)
      << r.out;
}

TEST_F(KbBotTest, RefusesToStartWithoutAFolderOrABotToken) {
  ProcessResult r = RunProcess({BACKLINE_KB_BOT_PATH, "--target", stack_->target(), "--token_file",
                                dir_ + "/kb.token", "--kb", dir_ + "/missing"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("cannot read the knowledge-base folder"), std::string::npos) << r.err;
  std::ofstream(dir_ + "/anna.token") << stack_->Token("anna", v1::ROLE_AGENT);
  r = RunProcess({BACKLINE_KB_BOT_PATH, "--target", stack_->target(), "--token_file",
                  dir_ + "/anna.token", "--kb", SampleKb()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("only bots"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace backline::testing
