// What the desktop tray knows and shows, without Qt and without a network: the offers pending
// for the person with their deadlines, the escalations waiting that they could take (the
// looking-for-help list), their threads with unread counts and recent messages, their presence
// and the feed's connection. The session (tray_session.h) feeds it the events of
// the feed and the answers of its calls, and carries out what it asks for (TakeRequests); the
// window (tray_window.h) draws it. Tests drive it directly.
//
//   TrayState state("soren");
//   state.SetConnection(connected);              // asks for a reload (TakeRequests)
//   state.ApplyEvent(offer_event);               // one offer, one notification (TakeNewOffers)
//   state.ApplyEvent(offer_event);               // the same offer again changes nothing
//   TraySummary s = state.Summarize();           // "Backline — soren: AVAILABLE, 1 offer"
//
// De-duplication: offers are keyed by escalation id (a closed offer id never comes back),
// messages by (thread, seq), threads by id; a thread's last and read sequence numbers only grow,
// and its unread count is their difference, as the server counts it. So an event seen both in a
// snapshot (ListThreads, ListEscalations) and on the stream counts once, in whatever order the
// two arrive. Not thread-safe: the UI thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backline/client.h"

namespace backline::qt_tray {

// Something the state needs from the server; the session makes the call and brings the answer
// back through one of the Load* or answer methods below.
struct TrayRequest {
  enum Kind {
    kReload,          // presence, pending offers, threads and open escalations afresh
    kLoadThread,      // thread_id: a thread the stream mentioned but no snapshot had yet
    kLoadEscalation,  // escalation_id: to title its thread
    kLoadMessages,    // thread_id: the recent messages of the thread shown
    kMarkRead,        // thread_id, seq: the thread shown has been read up to seq
    kLoadPresence,    // the person's presence (it may have changed server-side)
    kSetStatus,       // status: what the person chose, sent once connected
    kLoadWaiting,     // the escalations waiting that the person could take (ListWaiting)
  };
  Kind kind = kReload;
  std::string thread_id;
  std::string escalation_id;
  int64_t seq = 0;
  v1::PresenceStatus status = v1::PRESENCE_STATUS_UNSPECIFIED;
  // kReload: the state's generation when asked, for LoadOffers.
  uint64_t generation = 0;

  static TrayRequest Of(Kind kind) {
    TrayRequest r;
    r.kind = kind;
    return r;
  }
  static TrayRequest ForThread(Kind kind, std::string thread_id, int64_t seq = 0) {
    TrayRequest r = Of(kind);
    r.thread_id = std::move(thread_id);
    r.seq = seq;
    return r;
  }
};

// An offer on the tray.
struct PendingOffer {
  v1::Offer offer;
  v1::Escalation escalation;
  // The generation at which the state learned of it (see LoadOffers).
  uint64_t learned = 0;
};

// A thread as the tray keeps it.
struct TrayThread {
  v1::Thread thread;  // last_seq and read_seq are the highest seen from any source
  std::map<int64_t, v1::Message> messages;  // the newest kMaxMessagesPerThread, by seq
  absl::Time activity = absl::InfinitePast();
  bool loaded = false;  // a snapshot of it (ListThreads, GetThread) arrived

  int64_t unread() const {
    return thread.last_seq() > thread.read_seq() ? thread.last_seq() - thread.read_seq() : 0;
  }
};

// How the tray icon looks.
enum class TrayBadge {
  kDisconnected,  // not connected (connecting, reconnecting, stopped)
  kOffer,         // offers pending
  kAvailable,     // AVAILABLE, nothing pending
  kBusy,          // ON_CALL, WRAP_UP, BREAK, MEETING
  kOffline,       // OFFLINE, or presence not known yet
};

struct TraySummary {
  std::string title;       // window title: "Backline — soren: AVAILABLE, 1 offer, 2 unread"
  std::string tooltip;     // tray tooltip, several lines
  std::string connection;  // status line: "Connected", "Reconnecting in 3 s: ..."
  TrayBadge badge = TrayBadge::kOffline;
  int offers = 0;
  int64_t unread = 0;
};

inline constexpr size_t kMaxMessagesPerThread = 200;
// An offer whose deadline passed this long ago without word from the server is dropped (its
// close event may have been lost to a gap).
inline constexpr absl::Duration kLapsedOfferGrace = absl::Seconds(5);
// The looking-for-help list is read afresh this often while connected (the stream's
// WaitingChanged events keep it current in between), on every reload and after a take.
inline constexpr absl::Duration kWaitingRefresh = absl::Seconds(30);

class TrayState {
 public:
  explicit TrayState(std::string me);

  const std::string& me() const { return me_; }

  // --- the feed ---
  // A change of the feed's connection. Every CONNECTED asks for a reload, and for the status the
  // person chose while away (WantStatus).
  void SetConnection(const FeedStateChange& change);
  // One event of the feed, in order. A gap asks for a reload.
  void ApplyEvent(const v1::Event& event);

  // --- snapshots, answers of the session's calls ---
  void SetPresence(const v1::Presence& presence);
  // The escalations offered to the person (ListEscalations OFFERED), asked at `generation`
  // (TrayRequest::generation): offers in it are added unless closed meanwhile; offers the
  // state learned of before `generation` and missing from it are gone.
  void LoadOffers(const std::vector<v1::Escalation>& offered, uint64_t generation);
  // Threads (ListThreads, GetThread, MarkRead), merged with what events said since.
  void LoadThreads(const std::vector<v1::Thread>& threads);
  // Escalations the person takes part in (titles of their threads; offers' details).
  void LoadEscalations(const std::vector<v1::Escalation>& escalations);
  // The escalations waiting that the person could take (ListWaiting), in the queue's order.
  void LoadWaiting(const std::vector<v1::WaitingEscalation>& waiting);
  // Messages of a thread (ListMessages, or one's own post), merged by seq.
  void LoadMessages(const std::string& thread_id, const std::vector<v1::Message>& messages);
  // The person accepted or declined: the offer is gone; an accepted one's thread is shown.
  void Accepted(const v1::Escalation& escalation);
  void Declined(const v1::Escalation& escalation);
  // The person took a waiting escalation: it leaves the list and its thread is shown. A take
  // that failed says why and reads the list again.
  void Took(const v1::Escalation& escalation);
  void TakeFailed(const std::string& escalation_id, const absl::Status& error);
  // The answer to Resolve, Transfer or Invite: the escalation as it now stands; `what` says what
  // happened ("Resolved").
  void EscalationChanged(const v1::Escalation& escalation, const std::string& what);
  // A line for the status bar (a command typed wrongly, say).
  void Notice(std::string text);
  // A call failed; `what` says which ("accept esc-1"). An offer that is gone (FAILED_PRECONDITION
  // on accept or decline) leaves the tray. The request that failed may be asked again.
  void Failed(const std::string& what, const absl::Status& error);
  void OfferGone(const std::string& escalation_id);
  // A reply could not be sent: the notice says why, and the text goes back to the reply box
  // (TakeReturnedReply) so that nothing typed is lost.
  void ReplyFailed(const std::string& thread_id, const std::string& text,
                   const absl::Status& error);
  // A request was answered (`ok`) or failed: it may be asked again. A failed one is asked
  // again only when something new calls for it (an event, a reconnect), never in a loop.
  void Done(const TrayRequest& request, bool ok);

  // --- what the person does ---
  // The status to set; sent now if connected, else when the feed connects again.
  void WantStatus(v1::PresenceStatus status);
  // Shows a thread ("" for none): its messages are loaded and, while shown, it is marked read.
  void OpenThread(const std::string& thread_id);
  // Drops offers whose deadline passed more than kLapsedOfferGrace before `now`; asks for the
  // looking-for-help list every kWaitingRefresh while connected.
  void Tick(absl::Time now);
  // The window was shown or hidden: a thread is marked read only while it can be seen.
  void SetVisible(bool visible);

  // --- what to do ---
  // What to ask the server, in order; empties the queue. A load already asked and not yet
  // answered is not asked twice.
  std::vector<TrayRequest> TakeRequests();
  // Offers to notify of: each offer once, whether learned from a snapshot or the stream.
  std::vector<PendingOffer> TakeNewOffers();
  // A reply that failed, to put back into the reply box of its thread.
  struct ReturnedReply {
    std::string thread_id;
    std::string text;
  };
  std::optional<ReturnedReply> TakeReturnedReply();
  // Bumped by every change; the window redraws when it moved.
  uint64_t version() const { return version_; }
  uint64_t generation() const { return generation_; }

  // --- what to show ---
  // Pending offers, soonest deadline first.
  std::vector<const PendingOffer*> Offers() const;
  const PendingOffer* FindOffer(const std::string& escalation_id) const;
  // The looking-for-help list, in the queue's order, less what was offered to the person since.
  std::vector<const v1::WaitingEscalation*> Waiting() const;
  // The escalation of the thread shown while it is ACCEPTED (so it can be resolved), else null.
  const v1::Escalation* ResolvableEscalation() const;
  // The id of the escalation whose thread is shown, or "" (a direct or team thread, or none).
  std::string ShownEscalation() const;
  // Threads, most recently active first.
  std::vector<const TrayThread*> Threads() const;
  const TrayThread* FindThread(const std::string& thread_id) const;
  const std::string& open_thread() const { return open_thread_; }
  const std::optional<v1::Presence>& presence() const { return presence_; }
  const FeedStateChange& connection() const { return connection_; }
  // Reconnects so far (CONNECTED after the first).
  int reconnects() const { return reconnects_; }
  const std::string& notice() const { return notice_; }

  // Lines as the window shows them (UTF-8). An offer takes two: the question, then who asks,
  // how urgent, in which language, for which skills, and the seconds left.
  std::string OfferLine(const PendingOffer& offer, absl::Time now) const;
  // A waiting escalation in two lines: the question, then who asks, how urgent, the language,
  // the skills, the place in the queue, how long it has waited and whether the person is among
  // the best matches.
  std::string WaitingLine(const v1::WaitingEscalation& waiting, absl::Time now) const;
  std::string ThreadTitle(const TrayThread& thread) const;
  std::string ThreadLine(const TrayThread& thread) const;
  static std::string MessageLine(const v1::Message& message);
  TraySummary Summarize(absl::Time now) const;

  // Everything above as JSON (for --state-file, which tests read); `extra` (a JSON object, or
  // empty) is merged in at the top level.
  std::string ToJson(absl::Time now, const std::string& extra = "") const;

 private:
  void Changed() { ++version_; }
  void Request(TrayRequest request);
  void AskReload();
  void AddOffer(const v1::Offer& offer, const v1::Escalation& escalation);
  void CloseOffer(const std::string& escalation_id, const std::string& offer_id);
  void RememberEscalation(const v1::Escalation& escalation);
  // The person is the escalation's helper now (accepted or taken): its thread is shown.
  void BecameHelper(const v1::Escalation& escalation, const std::string& what);
  TrayThread& Thread(const std::string& thread_id);
  // `snapshot`: a whole thread as the server has it for the person (ListThreads, GetThread,
  // MarkRead), with their read marker; else a thread_changed event, without one.
  void MergeThread(const v1::Thread& thread, bool snapshot);
  void AddMessage(const v1::Message& message);
  void MarkShownThreadRead();
  std::string Pending(const TrayRequest& request) const;

  const std::string me_;
  uint64_t version_ = 0;
  uint64_t generation_ = 0;

  std::map<std::string, PendingOffer> offers_;  // by escalation id
  std::set<std::string> closed_offers_;         // offer ids that never come back
  std::set<std::string> notified_offers_;       // offer ids already notified of
  std::vector<PendingOffer> new_offers_;
  std::optional<ReturnedReply> returned_reply_;
  std::map<std::string, v1::Escalation> escalations_;  // newest version by id
  std::map<std::string, TrayThread> threads_;
  std::vector<v1::WaitingEscalation> waiting_;  // in the queue's order
  absl::Time next_waiting_load_ = absl::InfinitePast();

  std::string open_thread_;
  bool visible_ = true;
  std::optional<v1::Presence> presence_;
  std::optional<v1::PresenceStatus> wanted_status_;
  FeedStateChange connection_;
  int connects_ = 0;
  int reconnects_ = 0;
  std::string notice_;

  std::vector<TrayRequest> requests_;
  std::set<std::string> pending_;  // loads asked and not yet answered (Pending keys)
};

}  // namespace backline::qt_tray
