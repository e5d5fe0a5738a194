#include "services/kb_bot/kb_bot.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/log.h"

namespace backline::kb {
namespace {

// Errors after which posting again may succeed.
bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsResourceExhausted(s) ||
         absl::IsAborted(s);
}

}  // namespace

KbBot::KbBot(Client* client, KbBotOptions options)
    : client_(client), options_(std::move(options)) {}

KbBot::~KbBot() { Stop(); }

std::shared_ptr<const KnowledgeBase> KbBot::Current() const {
  absl::MutexLock lock(&mu_);
  return kb_;
}

size_t KbBot::articles() const {
  auto kb = Current();
  return kb ? kb->size() : 0;
}

int KbBot::answered() const {
  absl::MutexLock lock(&mu_);
  return answered_;
}

bool KbBot::ReloadIfChanged() {
  auto snapshot = SnapshotFolder(options_.kb_dir);
  if (!snapshot.ok()) {
    BL_LOG(WARNING) << snapshot.status();
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (kb_ && *snapshot == snapshot_) return false;
  }
  const absl::Time start = absl::Now();
  auto kb = KnowledgeBase::Load(options_.kb_dir);
  if (!kb.ok()) {
    BL_LOG(WARNING) << kb.status();
    return false;
  }
  BL_LOG(INFO) << "knowledge base " << options_.kb_dir << ": " << (*kb)->size()
               << " articles indexed in " << absl::FormatDuration(absl::Now() - start);
  absl::MutexLock lock(&mu_);
  kb_ = std::move(*kb);
  snapshot_ = std::move(*snapshot);
  return true;
}

std::string KbBot::LoadCursor() const {
  if (options_.state_file.empty()) return "0";
  std::ifstream in(options_.state_file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string cursor(absl::StripAsciiWhitespace(ss.str()));
  // Never run before: everything still retained (the subscription is older than the log).
  return cursor.empty() ? "0" : cursor;
}

void KbBot::SaveCursor(const std::string& cursor) {
  if (options_.state_file.empty() || cursor.empty()) return;
  // Written beside and renamed, so that a crash leaves the old cursor or the new one.
  const std::string tmp = options_.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << cursor << "\n";
    if (!out.flush()) {
      BL_LOG(WARNING) << "cannot write " << tmp;
      return;
    }
  }
  if (std::rename(tmp.c_str(), options_.state_file.c_str()) != 0) {
    BL_LOG(WARNING) << "cannot replace " << options_.state_file;
  }
}

absl::Status KbBot::Start() {
  if (!ReloadIfChanged() && Current() == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the knowledge-base folder ", options_.kb_dir));
  }
  auto subscribed = client_->SubscribeEscalations(options_.filter);
  if (!subscribed.ok()) return subscribed.status();
  FeedOptions feed;
  feed.after_cursor = LoadCursor();
  feed.on_event = [this](const v1::Event& e) { OnEvent(e); };
  feed.on_state = [](const FeedStateChange& s) {
    if (s.state == FeedState::kConnected) {
      BL_LOG(INFO) << "listening for escalations";
    } else if (s.state == FeedState::kReconnecting) {
      BL_LOG(WARNING) << "event stream lost (" << s.error.message() << "); reconnecting";
    } else if (s.state == FeedState::kStopped && !s.error.ok()) {
      BL_LOG(ERROR) << "event stream refused: " << s.error;
    }
  };
  feed_ = client_->OpenFeed(std::move(feed));
  rescanner_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.rescan_interval)) return;
      }
      ReloadIfChanged();
    }
  });
  return absl::OkStatus();
}

void KbBot::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (feed_) {
    feed_->Stop();
    std::string cursor;
    {
      absl::MutexLock lock(&mu_);
      cursor = handled_cursor_;
    }
    SaveCursor(cursor);
  }
  if (rescanner_.joinable()) rescanner_.join();
}

void KbBot::OnEvent(const v1::Event& event) {
  if (event.has_escalation_created()) {
    const v1::Escalation& e = event.escalation_created().escalation();
    auto posted = Answer(e);
    if (!posted.ok()) {
      BL_LOG(WARNING) << "could not answer " << e.id() << ": " << posted.status();
      // Interrupted by Stop(): the cursor stays before it, so the next start answers it.
      if (IsTransient(posted.status())) {
        absl::MutexLock lock(&mu_);
        held_back_ = true;
        return;
      }
    }
  }
  if (event.cursor().empty()) return;
  // The cursor is saved after every escalation handled (that is what must not be missed), and
  // at most every second for the thread's other traffic the bot also receives.
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (held_back_) return;
    handled_cursor_ = event.cursor();
    if (!event.has_escalation_created() && now - cursor_saved_at_ < absl::Seconds(1)) return;
    cursor_saved_at_ = now;
  }
  SaveCursor(event.cursor());
}

absl::StatusOr<v1::Message> KbBot::PostWithRetry(const v1::PostMessageRequest& request) {
  absl::Duration wait = absl::Milliseconds(100);
  while (true) {
    auto posted = client_->PostMessage(request);
    if (posted.ok() || !IsTransient(posted.status())) return posted;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return posted.status();
    wait = std::min(wait * 2, absl::Seconds(2));
  }
}

absl::StatusOr<int> KbBot::Answer(const v1::Escalation& e) {
  const absl::Time start = absl::Now();
  auto kb = Current();
  SearchOptions search = options_.search;
  search.language = e.language();
  const std::vector<Hit> hits = kb ? kb->Search(e.question(), search) : std::vector<Hit>();
  int posted = 0;
  for (const Hit& h : hits) {
    v1::PostMessageRequest r;
    r.set_thread_id(e.thread_id());
    r.set_kind(v1::MESSAGE_KIND_KB_HIT);
    r.set_text(h.article->title);
    v1::KbHit* hit = r.mutable_kb_hit();
    hit->set_article_id(h.article->id);
    hit->set_title(h.article->title);
    hit->set_snippet(h.snippet);
    hit->set_link(!h.article->link.empty() || options_.link_base.empty()
                      ? h.article->link
                      : absl::StrCat(options_.link_base, h.article->id));
    hit->set_score(h.score);
    hit->set_source(options_.source);
    auto m = PostWithRetry(r);
    if (!m.ok()) return m.status();
    ++posted;
  }
  if (hits.empty() && !options_.no_match_text.empty()) {
    v1::PostMessageRequest r;
    r.set_thread_id(e.thread_id());
    r.set_text(options_.no_match_text);
    r.set_client_msg_id(absl::StrCat("no-match.", e.id()));  // once per escalation
    auto m = PostWithRetry(r);
    if (!m.ok()) return m.status();
  }
  {
    absl::MutexLock lock(&mu_);
    ++answered_;
  }
  BL_LOG(INFO) << e.id() << " (" << e.language() << "): " << posted << " hits posted in "
               << absl::FormatDuration(absl::Now() - start);
  return posted;
}

}  // namespace backline::kb
