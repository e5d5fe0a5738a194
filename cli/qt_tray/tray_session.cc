#include "cli/qt_tray/tray_session.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace backline::qt_tray {

TraySession::TraySession(ClientOptions options, PostChange post)
    : client_(std::move(options)), post_(std::move(post)) {}

TraySession::~TraySession() { Stop(); }

void TraySession::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  worker_ = std::thread([this] { Work(); });
  FeedOptions options;
  options.session_id = session_id_;
  options.on_event = [this](const v1::Event& event) {
    Post([event](TrayState& state) { state.ApplyEvent(event); });
  };
  options.on_state = [this](const FeedStateChange& change) {
    Post([change](TrayState& state) { state.SetConnection(change); });
  };
  feed_ = client_.OpenFeed(std::move(options));
}

void TraySession::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    calls_.clear();
  }
  if (feed_) feed_->Stop();
  if (worker_.joinable()) worker_.join();
}

void TraySession::FollowUp(TrayState& state) {
  for (TrayRequest& request : state.TakeRequests()) {
    Enqueue([this, request = std::move(request)] { Send(request); });
  }
}

void TraySession::Accept(const std::string& escalation_id, const std::string& offer_id) {
  AnswerOffer(/*accept=*/true, escalation_id, offer_id);
}

void TraySession::Decline(const std::string& escalation_id, const std::string& offer_id) {
  AnswerOffer(/*accept=*/false, escalation_id, offer_id);
}

void TraySession::AnswerOffer(bool accept, const std::string& escalation_id,
                              const std::string& offer_id) {
  Enqueue([this, accept, escalation_id, offer_id] {
    auto e = accept ? client_.AcceptOffer(escalation_id, offer_id)
                    : client_.DeclineOffer(escalation_id, offer_id);
    Post([accept, escalation_id, e = std::move(e)](TrayState& state) {
      if (e.ok()) {
        accept ? state.Accepted(*e) : state.Declined(*e);
        return;
      }
      state.Failed(absl::StrCat(accept ? "accept " : "decline ", escalation_id), e.status());
      // Taken, lapsed or withdrawn meanwhile: it is no longer the person's to answer.
      if (e.status().code() == absl::StatusCode::kFailedPrecondition) {
        state.OfferGone(escalation_id);
      }
    });
  });
}

void TraySession::ChangeEscalation(const std::string& verb, const std::string& escalation_id,
                                   const std::string& what,
                                   std::function<absl::StatusOr<v1::Escalation>()> call) {
  Enqueue([this, verb, escalation_id, what, call = std::move(call)] {
    auto e = call();
    Post([verb, escalation_id, what, e = std::move(e)](TrayState& state) {
      e.ok() ? state.EscalationChanged(*e, what)
             : state.Failed(absl::StrCat(verb, " ", escalation_id), e.status());
    });
  });
}

void TraySession::Resolve(const std::string& escalation_id, const std::string& note) {
  ChangeEscalation("resolve", escalation_id, "Resolved", [this, escalation_id, note] {
    return client_.ResolveEscalation(escalation_id, note);
  });
}

void TraySession::Transfer(const std::string& escalation_id,
                           const std::vector<v1::SkillRequirement>& skills) {
  v1::TransferEscalationRequest request;
  for (const v1::SkillRequirement& s : skills) *request.add_skills() = s;
  ChangeEscalation("transfer", escalation_id, "Back in the queue", [this, escalation_id, request] {
    return client_.TransferEscalation(escalation_id, request);
  });
}

void TraySession::Invite(const std::string& escalation_id, const std::string& person) {
  ChangeEscalation(
      "invite", escalation_id, absl::StrCat(person, " invited"),
      [this, escalation_id, person] { return client_.InviteExpert(escalation_id, person); });
}

void TraySession::Take(const std::string& escalation_id) {
  Enqueue([this, escalation_id] {
    auto e = client_.TakeEscalation(escalation_id);
    Post([escalation_id, e = std::move(e)](TrayState& state) {
      e.ok() ? state.Took(*e) : state.TakeFailed(escalation_id, e.status());
    });
  });
}

void TraySession::Reply(const std::string& thread_id, const std::string& text) {
  // The idempotency key is chosen here, once: the client's retries reuse it, so the reply lands
  // once however often it is sent again.
  v1::PostMessageRequest request;
  request.set_thread_id(thread_id);
  request.set_text(text);
  request.set_client_msg_id(Client::NewRequestId());
  request.set_session_id(session_id_);  // shown from the reply: the feed is not sent it back
  Enqueue([this, request = std::move(request)] {
    auto m = client_.PostMessage(request);
    Post([request, m = std::move(m)](TrayState& state) {
      if (m.ok()) {
        state.LoadMessages(m->thread_id(), {*m});
      } else {
        state.ReplyFailed(request.thread_id(), request.text(), m.status());
      }
    });
  });
}

void TraySession::Enqueue(std::function<void()> call) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  calls_.push_back(std::move(call));
}

void TraySession::Work() {
  while (true) {
    std::function<void()> call;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](TraySession* s)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->stopping_ || !s->calls_.empty(); },
          this));
      if (stopping_) return;
      call = std::move(calls_.front());
      calls_.pop_front();
    }
    call();
  }
}

void TraySession::Post(Change change) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
  }
  post_(std::move(change));
}

void TraySession::Send(const TrayRequest& request) {
  // Posts the answer of one call: `apply` on success, a notice on failure; then Done.
  auto answer = [this, request](const absl::Status& status, std::string what, Change apply) {
    Post([request, status, what = std::move(what), apply = std::move(apply)](TrayState& state) {
      if (status.ok()) {
        apply(state);
      } else if (!what.empty()) {
        state.Failed(what, status);
      }
      state.Done(request, status.ok());
    });
  };
  switch (request.kind) {
    case TrayRequest::kReload:
      Reload(request);
      return;
    case TrayRequest::kLoadThread: {
      auto t = client_.GetThread(request.thread_id);
      answer(t.status(), "", [t](TrayState& s) { s.LoadThreads({*t}); });
      return;
    }
    case TrayRequest::kLoadEscalation: {
      auto e = client_.GetEscalation(request.escalation_id);
      answer(e.status(), "", [e](TrayState& s) { s.LoadEscalations({*e}); });
      return;
    }
    case TrayRequest::kLoadMessages: {
      v1::ListMessagesRequest r;
      r.set_thread_id(request.thread_id);
      r.set_before_seq(std::numeric_limits<int64_t>::max());  // the newest page
      r.set_page_size(100);
      auto page = client_.ListMessages(r);
      answer(page.status(), "load messages", [page, id = request.thread_id](TrayState& s) {
        s.LoadMessages(id, {page->messages().begin(), page->messages().end()});
      });
      return;
    }
    case TrayRequest::kMarkRead: {
      auto t = client_.MarkRead(request.thread_id, request.seq);
      answer(t.status(), "", [t](TrayState& s) { s.LoadThreads({*t}); });
      return;
    }
    case TrayRequest::kLoadPresence: {
      auto p = client_.GetPresence();
      answer(p.status(), "", [p](TrayState& s) { s.SetPresence(*p); });
      return;
    }
    case TrayRequest::kSetStatus: {
      auto p = client_.SetStatus(request.status);
      answer(p.status(), "set status", [p](TrayState& s) { s.SetPresence(*p); });
      return;
    }
    case TrayRequest::kLoadWaiting: {
      v1::ListWaitingRequest r;
      r.set_page_size(20);
      auto w = client_.ListWaiting(r);
      answer(w.status(), "", [w](TrayState& s) {
        s.LoadWaiting({w->escalations().begin(), w->escalations().end()});
      });
      return;
    }
  }
}

void TraySession::Reload(const TrayRequest& request) {
  // Presence, then offers, then threads and the escalations that title them: each answer is
  // applied as it comes; the first failure ends the reload (the next connect asks again).
  absl::Status status;
  if (auto p = client_.GetPresence(); p.ok()) {
    Post([p = *std::move(p)](TrayState& s) { s.SetPresence(p); });
  } else {
    status = p.status();
  }
  if (status.ok()) {
    v1::ListEscalationsRequest r;
    r.set_scope(v1::ESCALATION_SCOPE_OFFERED);
    r.set_page_size(200);
    if (auto offered = client_.ListEscalations(r); offered.ok()) {
      Post([list = offered->escalations(), generation = request.generation](TrayState& s) {
        s.LoadOffers({list.begin(), list.end()}, generation);
      });
    } else {
      status = offered.status();
    }
  }
  if (status.ok()) {
    v1::ListThreadsRequest r;
    r.set_page_size(100);
    if (auto threads = client_.ListThreads(r); threads.ok()) {
      Post([list = threads->threads()](TrayState& s) {
        s.LoadThreads({list.begin(), list.end()});
      });
    } else {
      status = threads.status();
    }
  }
  if (status.ok()) {
    v1::ListEscalationsRequest r;
    r.set_scope(v1::ESCALATION_SCOPE_OPEN);
    r.set_page_size(200);
    if (auto open = client_.ListEscalations(r); open.ok()) {
      Post([list = open->escalations()](TrayState& s) {
        s.LoadEscalations({list.begin(), list.end()});
      });
    } else {
      status = open.status();
    }
  }
  Post([request, status](TrayState& s) {
    if (!status.ok()) s.Failed("reload", status);
    s.Done(request, status.ok());
  });
}

}  // namespace backline::qt_tray
