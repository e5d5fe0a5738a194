// Threads in Redis: a hash per thread (id, kind, escalation, team, site, created, last_seq,
// last_activity), its participants (a set; a team thread's participants are its team's index),
// its messages by sequence number, the client message ids already stored, read markers, and a
// per-person index of their threads by last activity. Every change is one script that checks
// the thread is still as read and appends the resulting events to each participant's log.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "backline/v1/common.pb.h"
#include "backline/v1/messaging.pb.h"
#include "services/common/clock.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::chat {

// How fast one sender may post: `burst` posts at once, then `per_second`.
struct PostRate {
  double per_second = 20;
  int burst = 60;
};

// The field prefix of a knowledge-base hit's counters: `<site>|<bot>|<article>`.
std::string HitCounterPrefix(absl::string_view site, absl::string_view bot,
                             absl::string_view article_id);

class RedisThreadStore {
 public:
  RedisThreadStore(store::RedisClient* redis, const store::Keys* keys, store::EventLogConfig events,
                   const Clock* clock);

  // The thread with its participants and, when `viewer` is given, their read marker and unread
  // count. NOT_FOUND when there is no such thread.
  absl::StatusOr<v1::Thread> Get(absl::string_view thread_id, absl::string_view viewer = "");

  // Stores `message` (thread, sender, kind, text, client id set; seq and time are assigned) and
  // delivers it — to the sender's desktop session `session` (may be empty) only in its log, not
  // on its stream (ScriptCall::Event's origin). `*duplicate` is set when a stored message with
  // the same client id is returned.
  // With `rate` (not null) the post counts against the sender's rate: RESOURCE_EXHAUSTED when it
  // is spent (a repeat of a stored message is never refused). A knowledge-base hit is counted
  // for the service-level figures. The thread is read from Redis only the first time: see
  // known_.
  absl::StatusOr<v1::Message> Post(v1::Message message, absl::string_view session,
                                   const PostRate* rate, bool* duplicate);

  // Records `person`'s mark on the knowledge-base hit `seq` of the thread (replacing their
  // earlier one); returns everyone's marks on it. NOT_FOUND for no such message,
  // FAILED_PRECONDITION for a message that is not a hit.
  absl::StatusOr<v1::KnowledgeHitRating> RateHit(const v1::Thread& thread, int64_t seq,
                                                 absl::string_view person, bool helpful);

  // Messages with after_seq < seq < before_seq (before_seq 0 = no bound): the first `limit`
  // of them, or with `newest` the last `limit`; ascending either way.
  absl::StatusOr<std::vector<v1::Message>> List(absl::string_view thread_id, int64_t after_seq,
                                                int64_t before_seq, int limit, bool newest);

  // Opens (or finds) the direct thread of `a` and `b`, or the thread of `team`.
  absl::StatusOr<v1::Thread> OpenDirect(absl::string_view a, absl::string_view b);
  absl::StatusOr<v1::Thread> OpenTeam(absl::string_view team, absl::string_view site,
                                      absl::string_view opener);
  // Adds `person` to an escalation thread; the participants are told.
  absl::StatusOr<v1::Thread> Join(absl::string_view thread_id, absl::string_view person);

  // Replaces the text of `editor`'s message `seq`, or deletes it (`text` empty, `remove`).
  absl::StatusOr<v1::Message> Change(absl::string_view thread_id, int64_t seq,
                                     absl::string_view editor, absl::string_view text, bool remove);
  // Moves `person`'s read marker to `seq`; returns the thread as `person` sees it.
  absl::StatusOr<v1::Thread> MarkRead(absl::string_view thread_id, absl::string_view person,
                                      int64_t seq);
  // Sends a typing indicator to the other participants, at most one per two seconds.
  absl::Status Typing(absl::string_view thread_id, absl::string_view person);

  // `person`'s threads, most recently active first.
  absl::StatusOr<v1::ListThreadsResponse> ListThreads(absl::string_view person, int limit,
                                                      absl::string_view page_token);

 private:
  std::string MembersKey(const v1::Thread& thread) const;
  // Runs a script whose events go to every participant of `thread`; retries are the caller's.
  store::ScriptCall NewCall() const;

  std::optional<v1::Thread> Known(absl::string_view thread_id);
  void Remember(const v1::Thread& thread);
  void Forget(absl::string_view thread_id);

  store::RedisClient* redis_;
  const store::Keys* keys_;
  store::EventLogConfig events_;
  const Clock* clock_;

  // The threads Post wrote to, as it last knew them, so that a post is one round trip: the post
  // script checks the participants and the sequence number it was built with and refuses a
  // copy that another instance's change (a join, a transfer, a post) made old — CONFLICT: read
  // the thread again; SEQ: number the message after Redis's last one. A thread's kind, team and
  // site never change. Emptied whole when it reaches kMaxKnownThreads.
  static constexpr size_t kMaxKnownThreads = 50000;
  absl::Mutex known_mu_;
  absl::flat_hash_map<std::string, v1::Thread> known_ ABSL_GUARDED_BY(known_mu_);
};

}  // namespace backline::chat
