// The desktop tray's network side, without Qt: the client, the person's event feed, and one
// worker thread that makes every call, so that the UI thread never waits for the network. All
// it learns — events, connection changes, answers and errors — is handed to the UI thread as a
// change of its TrayState; after applying one, the UI thread calls FollowUp, which sends what
// the state asks for.
//
//   TraySession session(options, [&](TraySession::Change change) {
//     QMetaObject::invokeMethod(window, [&, change] { change(state); session.FollowUp(state); },
//                               Qt::QueuedConnection);
//   });
//   session.Start();
//   session.Accept(offer.escalation.id(), offer.offer.offer_id());   // returns at once
//
// Calls run one at a time, in the order asked, each bounded by ClientOptions::deadline; a dead
// server only makes them fail (or wait that long) on the worker.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "backline/client.h"
#include "cli/qt_tray/tray_state.h"

namespace backline::qt_tray {

class TraySession {
 public:
  // A change of the tray's state, applied on the UI thread.
  using Change = std::function<void(TrayState&)>;
  // Hands a change to the UI thread; called from the feed's and the worker's threads.
  using PostChange = std::function<void(Change)>;

  TraySession(ClientOptions options, PostChange post);
  // Stops.
  ~TraySession();
  TraySession(const TraySession&) = delete;
  TraySession& operator=(const TraySession&) = delete;

  // Opens the feed (its states and events come as changes) and starts the worker.
  void Start();
  // Stops the feed, drops the calls not started, and waits for the one running (at most the
  // call deadline). No change is posted after it returns. Idempotent.
  void Stop();

  // UI thread, after applying a change or changing the state itself: sends what it asks for.
  void FollowUp(TrayState& state);

  // What the person does; each returns at once, and its answer or error comes as a change.
  void Accept(const std::string& escalation_id, const std::string& offer_id);
  void Decline(const std::string& escalation_id, const std::string& offer_id);
  // Posts `text` (UTF-8) to a thread; on failure the text comes back (TrayState::ReplyFailed).
  void Reply(const std::string& thread_id, const std::string& text);
  // Act on an accepted escalation (TrayState::EscalationChanged, or Failed): marks it solved with
  // an optional note, hands it back to the queue needing `skills`, brings in another expert.
  void Resolve(const std::string& escalation_id, const std::string& note = "");
  void Transfer(const std::string& escalation_id, const std::vector<v1::SkillRequirement>& skills);
  void Invite(const std::string& escalation_id, const std::string& person);
  // Takes a waiting escalation (TrayState::Took, or TakeFailed).
  void Take(const std::string& escalation_id);

 private:
  void AnswerOffer(bool accept, const std::string& escalation_id, const std::string& offer_id);
  // Runs `call` on the worker; its answer becomes EscalationChanged(`what`) or Failed(`verb` id).
  void ChangeEscalation(const std::string& verb, const std::string& escalation_id,
                        const std::string& what,
                        std::function<absl::StatusOr<v1::Escalation>()> call);
  void Enqueue(std::function<void()> call);
  void Work();
  // Runs `request` on the worker and posts its answer.
  void Send(const TrayRequest& request);
  void Reload(const TrayRequest& request);
  void Post(Change change);

  Client client_;
  const PostChange post_;
  // The feed's desktop session, named on replies: they are shown from the answer.
  const std::string session_id_ = Client::NewRequestId();
  std::unique_ptr<EventFeed> feed_;
  std::thread worker_;

  absl::Mutex mu_;
  std::deque<std::function<void()>> calls_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace backline::qt_tray
