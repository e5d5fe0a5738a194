// backline-kb-bot's logic: answers every new escalation matching its subscription with the best
// articles of a knowledge-base folder, posted into the escalation's thread as KB_HIT messages
// while a human is still being found. Built on the client library only, like any bot a
// contact centre might write.
//
// Delivery: the bot's EventFeed resumes from the cursor saved in `state_file` after each
// handled escalation, so a bot restarted (or killed) mid-run misses nothing still retained; the
// server posts each article into a thread once, so handling an escalation again after a crash
// posts nothing twice. The knowledge base is re-read when a file below the folder changes.
//
//   KbBot bot(&client, options);
//   if (absl::Status s = bot.Start(); !s.ok()) ...   // loads the articles, subscribes, listens
//   ...
//   bot.Stop();
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "backline/client.h"
#include "services/kb_bot/knowledge_base.h"

namespace backline::kb {

struct KbBotOptions {
  // The folder of articles.
  std::string kb_dir;
  // Which escalations to answer.
  v1::SubscribeEscalationsRequest filter;
  // Ranking: hits per escalation, score floor, language handling.
  SearchOptions search;
  // The hits' `source` (the knowledge base's name).
  std::string source = "kb";
  // A link for articles without their own: this prefix and the article id (empty: no link).
  std::string link_base;
  // Posted once into an escalation nothing matched; empty: post nothing then.
  std::string no_match_text;
  // Where the feed's cursor is kept across restarts (empty: start from what is retained).
  std::string state_file;
  // How often the folder is checked for changes.
  absl::Duration rescan_interval = absl::Seconds(5);
};

class KbBot {
 public:
  // `client` (with the bot's token) must outlive the bot.
  KbBot(Client* client, KbBotOptions options);
  ~KbBot();

  // Loads the knowledge base, subscribes and starts listening. NOT_FOUND for an unreadable
  // folder; the server's error for a refused subscription (PERMISSION_DENIED for a token that
  // is not a bot's).
  absl::Status Start();
  // Stops listening and joins the bot's threads; idempotent.
  void Stop();

  // Ranks `e`'s question and posts the hits into its thread; returns how many were posted.
  // Retries while the server is unreachable or the bot's rate is spent, until Stop().
  absl::StatusOr<int> Answer(const v1::Escalation& e);
  // Re-reads the folder if a file changed since it was read; true if it did.
  bool ReloadIfChanged();

  // Escalations answered since Start.
  int answered() const;
  size_t articles() const;

 private:
  void OnEvent(const v1::Event& event);
  void SaveCursor(const std::string& cursor);
  std::string LoadCursor() const;
  // Posts, retrying transient errors until Stop(); then the last error.
  absl::StatusOr<v1::Message> PostWithRetry(const v1::PostMessageRequest& request);
  std::shared_ptr<const KnowledgeBase> Current() const;

  Client* client_;
  const KbBotOptions options_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const KnowledgeBase> kb_ ABSL_GUARDED_BY(mu_);
  FolderSnapshot snapshot_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int answered_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time cursor_saved_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The cursor of the last event fully handled, and whether an escalation was left unanswered
  // (stopping): from then on the cursor no longer moves.
  std::string handled_cursor_ ABSL_GUARDED_BY(mu_);
  bool held_back_ ABSL_GUARDED_BY(mu_) = false;

  std::unique_ptr<EventFeed> feed_;
  std::thread rescanner_;
};

}  // namespace backline::kb
