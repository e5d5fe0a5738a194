// Bots as participants: a bot subscribes to new escalations by skill, language and team, is
// brought into each matching escalation's thread the moment it is created, and posts
// knowledge-base hits there before any helper accepts. Each article lands once per thread; a bot
// cannot accept, take, read other threads or post faster than its rate; people mark hits helpful
// or not and the marks are counted in the service-level figures, per bot and article.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class BotTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }

  void Start(chat::PostRate rate = {}) {
    ServerConfig config = TestConfig(SharedRedis());
    config.messaging.bot_posts = rate;
    stack_ = std::make_unique<TestStack>(config, Stack::kAll);
    stack_->ApplyRoster({
        MakePerson("anna", v1::ROLE_AGENT, {}, {"da", "nl"}),
        MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}, {"hardware", 3}}, {"da", "nl"}),
        MakePerson("eva", v1::ROLE_SUPERVISOR, {}, {"da"}),
        MakePerson("kb", v1::ROLE_BOT, {}, {}),
        MakePerson("other-bot", v1::ROLE_BOT, {}, {}),
    });
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
    bot_ = stack_->ClientFor("kb", v1::ROLE_BOT);
  }

  static v1::SubscribeEscalationsRequest Filter(std::vector<std::string> skills,
                                                std::vector<std::string> languages) {
    v1::SubscribeEscalationsRequest r;
    for (auto& s : skills) r.add_skills(s);
    for (auto& l : languages) r.add_languages(l);
    return r;
  }
  static v1::CreateEscalationRequest Question(const std::string& skill, const std::string& lang,
                                              const std::string& text = "kunden kan ikke betale") {
    v1::CreateEscalationRequest r;
    r.set_question(text);
    r.set_language(lang);
    r.add_skills()->set_skill(skill);
    return r;
  }
  static v1::PostMessageRequest Hit(const std::string& thread, const std::string& article,
                                    const std::string& client_msg_id = "") {
    v1::PostMessageRequest r;
    r.set_thread_id(thread);
    r.set_kind(v1::MESSAGE_KIND_KB_HIT);
    r.set_client_msg_id(client_msg_id);
    v1::KbHit* h = r.mutable_kb_hit();
    h->set_article_id(article);
    h->set_title(absl::StrCat("Artikel ", article));
    h->set_snippet("Sådan nulstiller du en betalingsaftale");
    h->set_link(absl::StrCat("kb://", article));
    h->set_score(7.5);
    h->set_source("test-kb");
    return r;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_, soren_, bot_;
};

TEST_F(BotTest, OnlyBotsSubscribeAndFiltersAreChecked) {
  Start();
  EXPECT_EQ(anna_->SubscribeEscalations(Filter({"billing"}, {})).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto bad_skill = bot_->SubscribeEscalations(Filter({"Billing!"}, {}));
  EXPECT_EQ(bad_skill.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_skill.status().message().find("skills[0]"), std::string::npos);
  auto bad_lang = bot_->SubscribeEscalations(Filter({}, {"not a tag"}));
  EXPECT_EQ(bad_lang.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_lang.status().message().find("languages[0]"), std::string::npos);
  auto ok = bot_->SubscribeEscalations(Filter({"billing"}, {"ZH-hant"}));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->bot(), "kb");
  ASSERT_EQ(ok->languages_size(), 1);
  EXPECT_EQ(ok->languages(0), "zh-Hant");
}

TEST_F(BotTest, AMatchingEscalationBringsTheBotInAndItsHitsArriveBeforeAnyAccept) {
  Start();
  auto bot_stream = bot_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*bot_stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({"billing"}, {"da"})).ok());
  auto anna_stream = anna_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*anna_stream, [](const v1::Event& e) { return e.has_caught_up(); }));

  // Nobody is available: the escalation waits, and the bot is told at once.
  auto e = anna_->Escalate(Question("billing", "da"));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->state(), v1::ESCALATION_STATE_QUEUED);
  auto created = WaitForEvent(*bot_stream, [&](const v1::Event& ev) {
    return ev.has_escalation_created() && ev.escalation_created().escalation().id() == e->id();
  });
  ASSERT_TRUE(created.has_value()) << "the bot was not told of the new escalation";
  EXPECT_EQ(created->escalation_created().escalation().question(), "kunden kan ikke betale");
  const std::string thread = created->escalation_created().escalation().thread_id();
  ASSERT_EQ(thread, e->thread_id());

  auto posted = bot_->PostMessage(Hit(thread, "da/betaling.md"));
  ASSERT_TRUE(posted.ok()) << posted.status();
  auto seen = WaitForEvent(*anna_stream, [&](const v1::Event& ev) {
    return ev.has_message_posted() && ev.message_posted().message().kind() == v1::MESSAGE_KIND_KB_HIT;
  });
  ASSERT_TRUE(seen.has_value()) << "the requester did not get the hit";
  EXPECT_EQ(seen->message_posted().message().kb_hit().title(), "Artikel da/betaling.md");
  EXPECT_EQ(seen->message_posted().message().kb_hit().snippet(),
            "Sådan nulstiller du en betalingsaftale");
  EXPECT_EQ(anna_->GetEscalation(e->id())->state(), v1::ESCALATION_STATE_QUEUED);

  // The helper who accepts later finds the hit in the thread's history.
  // (His stream is opened first: becoming available hands him the queued escalation at once.)
  auto soren_stream = soren_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*soren_stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto offer = WaitForEvent(*soren_stream, [](const v1::Event& ev) { return ev.has_offer(); });
  ASSERT_TRUE(offer.has_value());
  ASSERT_TRUE(soren_->AcceptOffer(e->id()).ok());
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  auto history = soren_->ListMessages(list);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_GE(history->messages_size(), 2);
  EXPECT_EQ(history->messages(0).kind(), v1::MESSAGE_KIND_KB_HIT);
  EXPECT_EQ(history->messages(0).sender(), "kb");
}

TEST_F(BotTest, EscalationsOutsideTheFilterNeverReachTheBot) {
  Start();
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({"billing"}, {"da"})).ok());
  auto bot_stream = bot_->Subscribe("0");
  auto dutch = anna_->Escalate(Question("billing", "nl", "klant kan niet betalen"));
  auto hardware = anna_->Escalate(Question("hardware", "da", "headsettet virker ikke"));
  auto danish = anna_->Escalate(Question("billing", "da-DK"));  // `da` covers `da-DK`
  ASSERT_TRUE(dutch.ok() && hardware.ok() && danish.ok());
  auto created = WaitForEvent(*bot_stream, [](const v1::Event& ev) {
    return ev.has_escalation_created();
  });
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->escalation_created().escalation().id(), danish->id());
  // Not brought in: its threads stay closed to the bot, whatever it tries.
  v1::ListMessagesRequest list;
  list.set_thread_id(dutch->thread_id());
  EXPECT_EQ(bot_->ListMessages(list).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bot_->PostMessage(Hit(hardware->thread_id(), "x")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bot_->GetThread(hardware->thread_id()).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Another bot without a subscription is in no thread at all.
  auto other = stack_->ClientFor("other-bot", v1::ROLE_BOT);
  list.set_thread_id(danish->thread_id());
  EXPECT_EQ(other->ListMessages(list).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(BotTest, EachArticleLandsOncePerThreadWhateverTheBotSends) {
  Start();
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({}, {})).ok());
  auto e = anna_->Escalate(Question("billing", "da"));
  ASSERT_TRUE(e.ok());
  auto first = bot_->PostMessage(Hit(e->thread_id(), "da/betaling.md", "attempt-1"));
  auto again = bot_->PostMessage(Hit(e->thread_id(), "da/betaling.md", "attempt-2"));
  auto other = bot_->PostMessage(Hit(e->thread_id(), "da/faktura.md"));
  ASSERT_TRUE(first.ok() && again.ok() && other.ok()) << first.status() << again.status();
  EXPECT_EQ(again->seq(), first->seq());
  EXPECT_EQ(other->seq(), first->seq() + 1);
  auto thread = anna_->GetThread(e->thread_id());
  ASSERT_TRUE(thread.ok());
  EXPECT_EQ(thread->last_seq(), other->seq());
  // A hit needs an article id, and only bots post hits.
  auto no_id = Hit(e->thread_id(), "");
  EXPECT_EQ(bot_->PostMessage(no_id).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_id = Hit(e->thread_id(), "da/bet aling.md");
  EXPECT_EQ(bot_->PostMessage(bad_id).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(anna_->PostMessage(Hit(e->thread_id(), "da/x.md")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(anna_->GetThread(e->thread_id())->last_seq(), other->seq());
}

TEST_F(BotTest, BotsCannotAcceptTakeOrEscalate) {
  Start();
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({}, {})).ok());
  auto e = anna_->Escalate(Question("billing", "da"));
  ASSERT_TRUE(e.ok());
  const std::string before = SharedRedis().Digest();
  EXPECT_EQ(bot_->AcceptOffer(e->id()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bot_->TakeEscalation(e->id()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bot_->Escalate(Question("billing", "da")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bot_->RateKnowledgeHit(e->thread_id(), 1, true).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SharedRedis().Digest(), before) << "a refused call changed something";
}

TEST_F(BotTest, PostingFasterThanTheRateIsRefusedAndStoresNothing) {
  Start({/*per_second=*/0.5, /*burst=*/3});
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({}, {})).ok());
  auto e = anna_->Escalate(Question("billing", "da"));
  ASSERT_TRUE(e.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bot_->PostMessage(Hit(e->thread_id(), absl::StrCat("a", i))).ok()) << i;
  }
  const std::string before = SharedRedis().Digest();
  auto refused = bot_->PostMessage(Hit(e->thread_id(), "a3"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_EQ(SharedRedis().Digest(), before) << "a refused post changed something";
  // A repeat of a stored hit is answered, not counted; people are not limited.
  EXPECT_TRUE(bot_->PostMessage(Hit(e->thread_id(), "a0")).ok());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(anna_->Post(e->thread_id(), "hej").ok());
}

TEST_F(BotTest, MarksOnHitsAreCountedPerBotAndArticle) {
  Start();
  ASSERT_TRUE(bot_->SubscribeEscalations(Filter({}, {})).ok());
  ASSERT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto soren_stream = soren_->Subscribe("");
  auto e = anna_->Escalate(Question("billing", "da"));
  ASSERT_TRUE(e.ok());
  auto hit = bot_->PostMessage(Hit(e->thread_id(), "da/betaling.md"));
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(soren_->AcceptOffer(e->id()).ok());
  auto text = anna_->Post(e->thread_id(), "tak");
  ASSERT_TRUE(text.ok());

  auto r = anna_->RateKnowledgeHit(e->thread_id(), hit->seq(), true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->helpful(), 1);
  r = soren_->RateKnowledgeHit(e->thread_id(), hit->seq(), false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->helpful(), 1);
  EXPECT_EQ(r->not_helpful(), 1);
  // Anna changes her mind: her mark is replaced, not added.
  r = anna_->RateKnowledgeHit(e->thread_id(), hit->seq(), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->helpful(), 0);
  EXPECT_EQ(r->not_helpful(), 2);
  r = anna_->RateKnowledgeHit(e->thread_id(), hit->seq(), false);
  EXPECT_EQ(r->not_helpful(), 2);

  EXPECT_EQ(anna_->RateKnowledgeHit(e->thread_id(), text->seq(), true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(anna_->RateKnowledgeHit(e->thread_id(), 999, true).status().code(),
            absl::StatusCode::kNotFound);
  auto eva = stack_->ClientFor("eva", v1::ROLE_SUPERVISOR);
  EXPECT_EQ(eva->RateKnowledgeHit(e->thread_id(), hit->seq(), true).status().code(),
            absl::StatusCode::kPermissionDenied)
      << "a supervisor who did not join may read, not mark";

  auto stats = eva->GetStats(v1::GetStatsRequest());
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->knowledge_size(), 1);
  const v1::KnowledgeStats& k = stats->knowledge(0);
  EXPECT_EQ(k.bot(), "kb");
  EXPECT_EQ(k.article_id(), "da/betaling.md");
  EXPECT_EQ(k.title(), "Artikel da/betaling.md");
  EXPECT_EQ(k.posted(), 1);
  EXPECT_EQ(k.helpful(), 0);
  EXPECT_EQ(k.not_helpful(), 2);
}

// A subscription made through one router instance is honoured by every other at once: each
// instance keeps the subscriptions it read, and the create script refuses a stale copy.
TEST_F(BotTest, EveryInstanceSeesANewSubscriptionAtOnce) {
  Start();
  TestStack second(SharedRedis());
  auto anna_elsewhere = second.ClientFor("anna", v1::ROLE_AGENT);
  // Both instances have read the (empty) subscriptions.
  ASSERT_TRUE(anna_->Escalate(Question("billing", "da")).ok());
  ASSERT_TRUE(anna_elsewhere->Escalate(Question("billing", "da")).ok());

  auto bot_stream = bot_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(*bot_stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  std::atomic<bool> stop{false};
  std::atomic<int> after_subscribe{0};
  std::vector<std::string> ids_after;
  std::mutex mu;
  std::atomic<bool> subscribed{false};
  std::vector<std::thread> agents;
  for (int a = 0; a < 4; ++a) {
    agents.emplace_back([&, a] {
      Client& c = a % 2 == 0 ? *anna_ : *anna_elsewhere;
      while (!stop.load()) {
        const bool was_subscribed = subscribed.load();
        auto e = c.Escalate(Question("billing", "da"));
        if (e.ok() && was_subscribed) {
          ++after_subscribe;
          std::lock_guard<std::mutex> lock(mu);
          ids_after.push_back(e->id());
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  auto other_bot = second.ClientFor("kb", v1::ROLE_BOT);
  ASSERT_TRUE(other_bot->SubscribeEscalations(Filter({"billing"}, {})).ok());
  subscribed.store(true);
  absl::SleepFor(absl::Milliseconds(300));
  stop.store(true);
  for (auto& t : agents) t.join();
  ASSERT_GT(after_subscribe.load(), 0);
  // Every escalation created after the subscription returned brought the bot in.
  std::set<std::string> told;
  while (auto ev = WaitForEvent(
             *bot_stream, [](const v1::Event& e) { return e.has_escalation_created(); },
             absl::Seconds(2))) {
    told.insert(ev->escalation_created().escalation().id());
    if (told.size() >= ids_after.size() && std::all_of(ids_after.begin(), ids_after.end(),
                                                       [&](const std::string& id) {
                                                         return told.count(id) > 0;
                                                       })) {
      break;
    }
  }
  for (const std::string& id : ids_after) {
    EXPECT_EQ(told.count(id), 1u) << id << " was created after the subscription but missed";
    auto thread = bot_->GetThread(absl::StrCat("thr-", id.substr(4)));
    EXPECT_TRUE(thread.ok()) << id << ": " << thread.status();
  }
}

}  // namespace
}  // namespace backline::testing
