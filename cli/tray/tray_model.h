// The terminal tray's state and what it shows, without a terminal or a network: the offers on
// the person's tray with their deadlines, the escalations waiting in the queue that the person
// could take, their threads with unread counts, the open thread and the reply being typed, their
// presence and the connection. The tray (tray.h) feeds it the
// feed's events and state changes, the answers of its calls and the keys pressed; the model
// says what to ask the server (TakeRequests) and renders the screen as lines (Render), which
// the tray draws. Tests drive it directly.
//
//   TrayModel model("soren");
//   model.ApplyEvent(offer_event);
//   model.HandleKey(Key::Text("a"));
//   for (const TrayRequest& r : model.TakeRequests()) ...   // kAccept of that offer
//   Frame frame = model.Render(absl::Now(), 120, 40);
//
// Events and snapshots (LoadThreads, LoadOffers) may arrive in any order and more than once:
// counts and lists merge monotonically (a thread's last and read sequence numbers only grow; a
// closed offer never comes back), so an event seen both in a snapshot and on the stream counts
// once. Not thread-safe: one thread (the tray's) owns it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "backline/client.h"

namespace backline::cli::tray {

// A key as the tray understands it: a control key, or one character typed (UTF-8).
struct Key {
  enum Code {
    kText,
    kUp,
    kDown,
    kPageUp,
    kPageDown,
    kEnter,
    kEscape,
    kTab,
    kBackspace,
    kInterrupt,  // Ctrl-C
  };
  Code code = kText;
  std::string text;

  static Key Of(Code code) { return Key{code, ""}; }
  static Key Text(std::string text) { return Key{kText, std::move(text)}; }
};

// Something the person asked for that the server must do, or the end of the tray.
struct TrayRequest {
  enum Kind {
    kAccept,        // escalation_id, offer_id
    kDecline,       // escalation_id, offer_id
    kSetStatus,     // status
    kLoadThread,    // thread_id: its recent messages, to show it
    kPost,          // thread_id, text
    kMarkRead,      // thread_id, seq
    kReload,        // threads, offers and presence afresh (after a (re)connect or a gap)
    kLoadPresence,  // the person's presence (load and status may have changed)
    kTyping,        // thread_id: the person is typing there
    kResolve,       // escalation_id, text: the resolution note (typed /resolve in its thread)
    kTransfer,      // escalation_id, skills (typed /transfer)
    kInvite,        // escalation_id, text: the expert to bring in (typed /invite)
    kLoadWaiting,   // the escalations waiting that the person could take (ListWaiting)
    kTake,          // escalation_id: take it from the queue
    kQuit,
  };
  Kind kind = kQuit;
  std::string escalation_id;
  std::string offer_id;
  std::string thread_id;
  std::string text;
  int64_t seq = 0;
  v1::PresenceStatus status = v1::PRESENCE_STATUS_UNSPECIFIED;
  std::vector<v1::SkillRequirement> skills;

  static TrayRequest Of(Kind kind) {
    TrayRequest r;
    r.kind = kind;
    return r;
  }
  static TrayRequest ForOffer(Kind kind, std::string escalation_id, std::string offer_id) {
    TrayRequest r = Of(kind);
    r.escalation_id = std::move(escalation_id);
    r.offer_id = std::move(offer_id);
    return r;
  }
  static TrayRequest ForThread(Kind kind, std::string thread_id, std::string text = "",
                               int64_t seq = 0) {
    TrayRequest r = Of(kind);
    r.thread_id = std::move(thread_id);
    r.text = std::move(text);
    r.seq = seq;
    return r;
  }
};

// How a line is drawn.
enum class LineStyle {
  kNormal,
  kTitle,     // the top bar
  kSection,   // a heading ("Offers (2)")
  kSelected,  // the selected offer or thread
  kUrgent,    // an offer about to lapse, or an error
  kHelp,      // the key bar at the bottom
};

struct Line {
  std::string text;  // at most the frame's width in columns, no control characters
  LineStyle style = LineStyle::kNormal;
};

// One screenful: exactly `height` lines, and where the cursor stands while typing.
struct Frame {
  std::vector<Line> lines;
  int cursor_row = -1;  // -1: hide the cursor
  int cursor_col = 0;
};

// Below this the tray only asks for a bigger window.
inline constexpr int kMinWidth = 40;
inline constexpr int kMinHeight = 10;

class TrayModel {
 public:
  explicit TrayModel(std::string me);

  const std::string& me() const { return me_; }

  // --- what the server says ---
  void SetPresence(const v1::Presence& presence);
  // A change of the feed's connection. CONNECTED asks for a reload: whatever happened while
  // away is then shown from the server's own lists, whether or not its events came.
  void SetConnection(const FeedStateChange& change);
  // One event of the feed, in order.
  void ApplyEvent(const v1::Event& event);
  // The person's threads (ListThreads), merged with what events said since.
  void LoadThreads(const std::vector<v1::Thread>& threads);
  // Escalations offered to the person now (each with the person's pending offer among
  // `offers`), merged with the offers the stream brought.
  void LoadOffers(const std::vector<v1::Escalation>& escalations);
  // Escalations the person takes part in, to describe their threads.
  void LoadEscalations(const std::vector<v1::Escalation>& escalations);
  // The escalations waiting that the person could take (ListWaiting), in the queue's order:
  // replaces the list. A failed refresh keeps the list and says so in its heading.
  void LoadWaiting(const std::vector<v1::WaitingEscalation>& waiting);
  void WaitingFailed(const absl::Status& error);
  // Recent messages of a thread (ListMessages), for when it is shown.
  void LoadMessages(const std::string& thread_id, const std::vector<v1::Message>& messages);
  // The answers of the person's own calls.
  void Accepted(const v1::Escalation& escalation);
  void Declined(const v1::Escalation& escalation);
  void Took(const v1::Escalation& escalation);
  // Taking failed (another helper was quicker, say): shown, and the waiting list is refreshed.
  void TakeFailed(const std::string& escalation_id, const absl::Status& error);
  // The answer to /resolve, /transfer or /invite: `done` says what happened ("resolved").
  void EscalationChanged(const v1::Escalation& escalation, const std::string& done);
  void Posted(const v1::Message& message);
  // A call failed: `what` ("accept esc-1") and the server's error, shown on the notice line.
  // A post that failed gives its text back to the input line, if that is empty.
  void Failed(const std::string& what, const absl::Status& error);
  void PostFailed(const std::string& text, const absl::Status& error);
  // A line of information on the notice line.
  void Notify(std::string text);

  // --- what the person does ---
  void HandleKey(const Key& key);
  // Drops offers whose deadline passed a while ago without word from the server (their close
  // event may have been lost to a gap), and asks for the waiting list every kWaitingRefresh
  // (the stream's WaitingChanged events keep it current in between; the refresh brings the
  // queue's places and what was announced to others).
  void Tick(absl::Time now);
  static constexpr absl::Duration kWaitingRefresh = absl::Seconds(30);

  // What to ask the server, in order; empties the queue.
  std::vector<TrayRequest> TakeRequests();
  bool quit() const { return quit_; }

  // --- what to show ---
  Frame Render(absl::Time now, int width, int height) const;

  // For tests and the tray: the offers by deadline, the threads most recent first.
  struct PendingOffer {
    v1::Offer offer;
    v1::Escalation escalation;
  };
  std::vector<PendingOffer> Offers() const;
  // The waiting escalations shown: the list less those offered to the person meanwhile.
  std::vector<v1::WaitingEscalation> Waiting() const;
  std::vector<v1::Thread> Threads() const;
  // The thread shown, or "" in the list.
  const std::string& open_thread() const { return open_thread_; }
  const std::string& input() const { return input_; }
  // "offer:<escalation id>", "waiting:<escalation id>" or "thread:<thread id>", or "" when the
  // list is empty.
  std::string selected() const;
  const std::optional<v1::Presence>& presence() const { return presence_; }
  const std::optional<FeedStateChange>& connection() const { return connection_; }
  const std::string& notice() const { return notice_; }

 private:
  // One entry of the list: an offer, a waiting escalation or a thread.
  struct Item {
    enum Kind { kOffer, kWaiting, kThread };
    std::string key;  // as selected()
    std::string id;   // escalation or thread id
    Kind kind = kThread;
  };
  std::vector<Item> Items() const;
  const Item* SelectedItem(const std::vector<Item>& items) const;
  void MoveSelection(int delta);

  void AddOffer(const v1::Offer& offer, const v1::Escalation& escalation);
  void CloseOffer(const std::string& escalation_id, const std::string& offer_id);
  void RememberEscalation(const v1::Escalation& escalation);
  // The person is the escalation's helper now (accepted or taken): its thread opens.
  void BecameHelper(const v1::Escalation& escalation, const std::string& verb);
  void MergeThread(const v1::Thread& thread, bool counts_from_server);
  void AddMessage(const v1::Message& message);
  void OpenThread(const std::string& thread_id);
  void CloseThread();
  void MarkOpenThreadRead();
  void Request(TrayRequest request);

  void ListKey(const Key& key);
  void ThreadKey(const Key& key);
  // The input line of a thread starts with '/': a command on the thread's escalation. The line
  // is cleared once the command is asked for, and kept to correct when it is wrong.
  void ThreadCommand();
  // A notice shown as an error.
  void NotifyError(std::string text);
  // The offer `a`/`d` act on: the selected one, else the one closest to its deadline.
  const PendingOffer* TargetOffer() const;
  // The escalation `t` takes: the selected waiting one, else the first best match, else the
  // first; "" when none waits.
  std::string TargetWaiting() const;

  // Rendering.
  std::string TitleText() const;
  std::string ConnectionText(absl::Time now) const;
  std::string OfferText(const PendingOffer& o, absl::Time now) const;
  std::string WaitingText(const v1::WaitingEscalation& w, absl::Time now) const;
  std::string ThreadText(const v1::Thread& t) const;
  std::string ThreadTitle(const v1::Thread& t) const;
  std::vector<Line> ListBody(absl::Time now, int width, int rows) const;
  std::vector<Line> ThreadBody(absl::Time now, int width, int rows) const;

  const std::string me_;
  std::optional<v1::Presence> presence_;
  std::optional<FeedStateChange> connection_;

  std::map<std::string, PendingOffer> offers_;  // by escalation id
  std::set<std::string> closed_offers_;         // offer ids that must not come back
  std::map<std::string, v1::Escalation> escalations_;
  std::map<std::string, v1::Thread> threads_;
  std::vector<v1::WaitingEscalation> waiting_;  // in the queue's order
  std::string waiting_error_;                   // why the last refresh failed, "" if it did not
  absl::Time next_waiting_load_ = absl::InfinitePast();

  std::string selected_;                     // key of the selected item
  std::string open_thread_;                  // "" in the list
  std::map<int64_t, v1::Message> messages_;  // of the open thread, by sequence number
  int scroll_ = 0;                           // lines scrolled up from the newest
  std::string input_;
  struct Typing {
    std::string person;
    absl::Time time;
  };
  std::map<std::string, Typing> typing_;  // by thread id: who typed there last

  std::string notice_;
  bool notice_is_error_ = false;
  std::vector<TrayRequest> requests_;
  bool quit_ = false;
};

}  // namespace backline::cli::tray
