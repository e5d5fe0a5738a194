// The per-user event log: a Redis Stream per user whose entry ids are the user's cursors. Each
// entry records the cursor before it (`p`), so a reader resuming after cursor C knows that
// nothing was lost exactly when the first entry it reads has p == C. Anything else is a gap
// that the reader is told about, never silently skipped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"
#include "services/store/script_call.h"

namespace backline::store {

struct StoredEvent {
  std::string cursor;   // stream entry id, e.g. `1700000000000-0`
  std::string prev;     // cursor of the entry before it (`0-0` for the first ever)
  std::string payload;  // serialized backline.v1.Event without its cursor
};

struct EventPage {
  std::vector<StoredEvent> events;
  // Events between the requested cursor and the first returned one were dropped by retention
  // (or the cursor is unknown to this log).
  bool gap = false;
  // Newest cursor ever written for the user (`0-0` when none).
  std::string last_cursor;
};

// A cursor is `<ms>-<seq>`; `0` is accepted for "from the start".
bool IsValidCursor(absl::string_view cursor);
// Orders two valid cursors (`0` counts as `0-0`): negative, zero or positive.
int CompareCursors(absl::string_view a, absl::string_view b);

// "user\ncursor\nprev\npayload", as published by the scripts; the first line may be
// "user origin" instead, naming the desktop session of `user` that the event came from
// (ScriptCall::Event). `origin` (may be null) is set to it, or cleared.
bool ParseEventAnnouncement(absl::string_view message, std::string* user, StoredEvent* event,
                            std::string* origin = nullptr);

class EventLog {
 public:
  EventLog(RedisClient* redis, const Keys* keys, EventLogConfig config);

  // Up to `limit` events after `after` (exclusive; `0` or `0-0` means from the start).
  absl::StatusOr<EventPage> ReadAfter(absl::string_view user, absl::string_view after, int limit);

  // The newest cursor ever written for `user` (`0-0` when none).
  absl::StatusOr<std::string> LastCursor(absl::string_view user);

  // Appends one event on its own (events that change state are appended by the script that
  // changes it, atomically). Returns the new cursor.
  absl::StatusOr<std::string> Append(absl::string_view user, std::string payload, int64_t now_ms);
  // Appends several events (user, payload), each to its user's log, in one script and one
  // round trip. Returns their cursors, in order.
  absl::StatusOr<std::vector<std::string>> AppendMany(
      std::vector<std::pair<std::string, std::string>> events, int64_t now_ms);

  const EventLogConfig& config() const { return config_; }

 private:
  RedisClient* redis_;
  const Keys* keys_;
  EventLogConfig config_;
};

}  // namespace backline::store
