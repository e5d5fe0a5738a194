#include "cli/tray/tray.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace backline::cli::tray {
namespace {

// Set by the signal handler; the write end of the wake pipe, for the handler.
volatile sig_atomic_t g_stop_signal = 0;
int g_wake_fd = -1;

void OnStopSignal(int) {
  g_stop_signal = 1;
  if (g_wake_fd >= 0) {
    const ssize_t n = write(g_wake_fd, "s", 1);
    (void)n;
  }
}

// What the other threads hand to the screen's thread: changes to apply to the model. Posting
// writes a byte to a pipe that the screen's thread polls with the terminal.
class Inbox {
 public:
  Inbox() {
    if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Inbox() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }

  void Post(std::function<void(TrayModel&)> change) {
    {
      absl::MutexLock lock(&mu_);
      changes_.push_back(std::move(change));
    }
    Wake();
  }
  std::deque<std::function<void(TrayModel&)>> Take() {
    absl::MutexLock lock(&mu_);
    std::deque<std::function<void(TrayModel&)>> out;
    out.swap(changes_);
    return out;
  }
  void Wake() {
    const ssize_t n = write(fds_[1], "w", 1);
    (void)n;  // a full pipe wakes the reader just as well
  }
  // Empties the pipe (the changes themselves are taken with Take).
  void Drain() {
    char buf[256];
    while (read(fds_[0], buf, sizeof(buf)) > 0) {
    }
  }
  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
  absl::Mutex mu_;
  std::deque<std::function<void(TrayModel&)>> changes_ ABSL_GUARDED_BY(mu_);
};

// One thread making the tray's calls to the server, in the order asked.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() { Stop(); }

  void Run(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  // Drops what has not started and waits for the call in progress (bounded by its deadline).
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      tasks_.clear();
    }
    thread_.join();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Worker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
              return w->stopping_ || !w->tasks_.empty();
            },
            this));
        if (stopping_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Carries out the model's requests on the worker and posts the answers back.
class Dispatcher {
 public:
  // `session` is the tray's feed's: its own posts are shown from the reply, not sent back.
  Dispatcher(Client& client, Inbox& inbox, Worker& worker, std::string session)
      : client_(client), inbox_(inbox), worker_(worker), session_(std::move(session)) {}

  void Dispatch(const TrayRequest& r) {
    switch (r.kind) {
      case TrayRequest::kAccept:
        return Call([this, r] {
          return Answered(r, "accept ", client_.AcceptOffer(r.escalation_id, r.offer_id),
                          &TrayModel::Accepted);
        });
      case TrayRequest::kDecline:
        return Call([this, r] {
          return Answered(r, "decline ", client_.DeclineOffer(r.escalation_id, r.offer_id),
                          &TrayModel::Declined);
        });
      case TrayRequest::kSetStatus:
        return Call([this, r] {
          auto p = client_.SetStatus(r.status);
          return [=](TrayModel& m) {
            if (!p.ok()) return m.Failed("set status", p.status());
            m.SetPresence(*p);
            m.Notify("");
          };
        });
      case TrayRequest::kLoadThread:
        return Call([this, r] { return LoadThread(r.thread_id); });
      case TrayRequest::kPost:
        return Call([this, r] {
          v1::PostMessageRequest request;
          request.set_thread_id(r.thread_id);
          request.set_text(r.text);
          request.set_session_id(session_);
          auto msg = client_.PostMessage(std::move(request));
          return
              [=](TrayModel& m) { msg.ok() ? m.Posted(*msg) : m.PostFailed(r.text, msg.status()); };
        });
      case TrayRequest::kMarkRead:
        return Call([this, r] {
          auto t = client_.MarkRead(r.thread_id, r.seq);
          return [=](TrayModel& m) {
            if (t.ok()) m.LoadThreads({*t});
          };
        });
      case TrayRequest::kReload:
        return Call([this] { return Reload(); });
      case TrayRequest::kLoadPresence:
        // Several asked for at once need one answer.
        if (presence_pending_.exchange(true)) return;
        return Call([this] {
          presence_pending_ = false;
          auto p = client_.GetPresence();
          return [=](TrayModel& m) {
            if (p.ok()) m.SetPresence(*p);
          };
        });
      case TrayRequest::kTyping: {
        // The server passes on one indicator per person and thread every two seconds; sending
        // more would only cost calls.
        const absl::Time now = absl::Now();
        absl::Time& last = typing_sent_[r.thread_id];
        if (now - last < kTypingEvery) return;
        last = now;
        return Call([this, r] {
          (void)client_.SetTyping(r.thread_id);  // a lost indicator is not worth a notice
          return [](TrayModel&) {};
        });
      }
      case TrayRequest::kResolve:
        return Call([this, r] {
          return Changed(r, "resolve", "resolved",
                         client_.ResolveEscalation(r.escalation_id, r.text));
        });
      case TrayRequest::kTransfer:
        return Call([this, r] {
          v1::TransferEscalationRequest req;
          for (const v1::SkillRequirement& s : r.skills) *req.add_skills() = s;
          return Changed(r, "transfer",
                         "back in the queue:", client_.TransferEscalation(r.escalation_id, req));
        });
      case TrayRequest::kInvite:
        return Call([this, r] {
          return Changed(r, "invite", absl::StrCat(r.text, " invited into"),
                         client_.InviteExpert(r.escalation_id, r.text));
        });
      case TrayRequest::kLoadWaiting:
        // One refresh at a time: a slow server must not collect a backlog of them.
        if (waiting_pending_.exchange(true)) return;
        return Call([this] {
          v1::ListWaitingRequest req;
          req.set_page_size(20);
          auto waiting = client_.ListWaiting(req);
          waiting_pending_ = false;
          return [=](TrayModel& m) {
            if (!waiting.ok()) return m.WaitingFailed(waiting.status());
            m.LoadWaiting({waiting->escalations().begin(), waiting->escalations().end()});
          };
        });
      case TrayRequest::kTake:
        return Call([this, r] {
          auto e = client_.TakeEscalation(r.escalation_id);
          return [=](TrayModel& m) {
            e.ok() ? m.Took(*e) : m.TakeFailed(r.escalation_id, e.status());
          };
        });
      case TrayRequest::kQuit:
        return;
    }
  }

 private:
  using Change = std::function<void(TrayModel&)>;

  // Runs `call` on the worker and posts the change it returns.
  void Call(std::function<Change()> call) {
    worker_.Run([this, call = std::move(call)] { inbox_.Post(call()); });
  }

  // The answer to an accept or a decline, for the model.
  static Change Answered(const TrayRequest& r, const char* what,
                         absl::StatusOr<v1::Escalation> answer,
                         void (TrayModel::*done)(const v1::Escalation&)) {
    return [=](TrayModel& m) {
      answer.ok() ? (m.*done)(*answer)
                  : m.Failed(absl::StrCat(what, r.escalation_id), answer.status());
    };
  }

  // The answer to a command typed in an escalation's thread.
  static Change Changed(const TrayRequest& r, const char* what, std::string done,
                        absl::StatusOr<v1::Escalation> answer) {
    return [=](TrayModel& m) {
      answer.ok() ? m.EscalationChanged(*answer, done)
                  : m.Failed(absl::StrCat(what, " ", r.escalation_id), answer.status());
    };
  }

  Change LoadThread(const std::string& thread_id) {
    auto thread = client_.GetThread(thread_id);
    if (!thread.ok()) {
      return [=](TrayModel& m) { m.Failed(absl::StrCat("open ", thread_id), thread.status()); };
    }
    v1::ListMessagesRequest req;
    req.set_thread_id(thread_id);
    req.set_before_seq(std::numeric_limits<int64_t>::max());  // the newest page
    req.set_page_size(200);
    auto page = client_.ListMessages(req);
    return [=](TrayModel& m) {
      m.LoadThreads({*thread});
      if (!page.ok()) return m.Failed(absl::StrCat("open ", thread_id), page.status());
      m.LoadMessages(thread_id, {page->messages().begin(), page->messages().end()});
    };
  }

  Change Reload() {
    v1::ListThreadsRequest threads_req;
    threads_req.set_page_size(200);
    auto threads = client_.ListThreads(threads_req);
    auto offered = ListEscalations(v1::ESCALATION_SCOPE_OFFERED);
    auto open = ListEscalations(v1::ESCALATION_SCOPE_OPEN);
    auto presence = client_.GetPresence();
    return [=](TrayModel& m) {
      if (presence.ok()) m.SetPresence(*presence);
      if (open.ok()) m.LoadEscalations({open->escalations().begin(), open->escalations().end()});
      if (offered.ok())
        m.LoadOffers({offered->escalations().begin(), offered->escalations().end()});
      if (threads.ok()) m.LoadThreads({threads->threads().begin(), threads->threads().end()});
      for (const auto* failed : {&threads.status(), &offered.status(), &open.status()}) {
        if (!failed->ok()) return m.Failed("reload", *failed);
      }
    };
  }

  absl::StatusOr<v1::ListEscalationsResponse> ListEscalations(v1::EscalationScope scope) {
    v1::ListEscalationsRequest req;
    req.set_scope(scope);
    req.set_page_size(200);
    return client_.ListEscalations(req);
  }

  static constexpr absl::Duration kTypingEvery = absl::Seconds(2);

  Client& client_;
  Inbox& inbox_;
  Worker& worker_;
  const std::string session_;
  std::map<std::string, absl::Time> typing_sent_;  // by thread; the screen's thread only
  std::atomic<bool> presence_pending_{false};
  std::atomic<bool> waiting_pending_{false};
};

void SetSignalMask(int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  pthread_sigmask(how, &set, nullptr);
}

// How long to wait for input before the countdowns need redrawing: until the next second.
int MillisToNextSecond(absl::Time now) {
  const int64_t ms = absl::ToUnixMillis(now) % 1000;
  return static_cast<int>(1000 - ms) + 5;
}

}  // namespace

void ReserveResizeSignal() { SetSignalMask(SIG_BLOCK); }

absl::Status RunTray(Client& client, const v1::Presence& me, std::unique_ptr<TrayScreen> screen) {
  TrayModel model(me.person());
  model.SetPresence(me);
  Inbox inbox;
  Worker worker;
  FeedOptions options;
  options.session_id = Client::NewRequestId();
  Dispatcher dispatcher(client, inbox, worker, options.session_id);

  g_stop_signal = 0;
  g_wake_fd = inbox.write_fd();
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;
  sigemptyset(&stop.sa_mask);
  struct sigaction old_term, old_hup, old_int;
  sigaction(SIGTERM, &stop, &old_term);
  sigaction(SIGHUP, &stop, &old_hup);
  sigaction(SIGINT, &stop, &old_int);

  options.on_event = [&inbox](const v1::Event& ev) {
    inbox.Post([ev](TrayModel& m) { m.ApplyEvent(ev); });
  };
  options.on_state = [&inbox](const FeedStateChange& change) {
    inbox.Post([change](TrayModel& m) { m.SetConnection(change); });
  };
  std::unique_ptr<EventFeed> feed = client.OpenFeed(options);
  SetSignalMask(SIG_UNBLOCK);  // resizes reach this thread's poll

  while (!model.quit() && !g_stop_signal) {
    for (auto& change : inbox.Take()) change(model);
    for (const TrayRequest& r : model.TakeRequests()) dispatcher.Dispatch(r);
    const absl::Time now = absl::Now();
    model.Tick(now);
    screen->Draw(model.Render(now, screen->width(), screen->height()));

    pollfd fds[2] = {{screen->input_fd(), POLLIN, 0}, {inbox.read_fd(), POLLIN, 0}};
    const int ready = poll(fds, 2, MillisToNextSecond(now));
    if (ready < 0 && errno != EINTR) break;
    inbox.Drain();
    bool resized = false;
    for (const Key& key : screen->ReadKeys(&resized)) model.HandleKey(key);
    if (fds[0].revents & (POLLHUP | POLLERR)) break;  // the terminal went away
  }

  // Whether the feed ended by itself (the server refused it for good), before Stop() ends it.
  for (auto& change : inbox.Take()) change(model);
  absl::Status ended;
  if (model.connection() && model.connection()->state == FeedState::kStopped) {
    ended = model.connection()->error;
  }
  feed->Stop();
  worker.Stop();
  screen.reset();
  g_wake_fd = -1;
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  return ended;
}

}  // namespace backline::cli::tray
