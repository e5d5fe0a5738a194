#include "services/store/event_log.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/store/store_lua.h"

namespace backline::store {
namespace {

BL_DEFINE_SCRIPT(ReadEventsScript, kReadEventsLua)
BL_DEFINE_SCRIPT(AppendEventsScript, "return {'OK', bl_append_events()}\n")

}  // namespace

bool IsValidCursor(absl::string_view cursor) {
  if (cursor == "0") return true;
  const size_t dash = cursor.find('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == cursor.size() ||
      cursor.size() > 41) {
    return false;
  }
  const absl::string_view ms = cursor.substr(0, dash), seq = cursor.substr(dash + 1);
  auto digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  uint64_t a, b;
  return digits(ms) && digits(seq) && absl::SimpleAtoi(ms, &a) && absl::SimpleAtoi(seq, &b);
}

int CompareCursors(absl::string_view a, absl::string_view b) {
  auto split = [](absl::string_view c) {
    uint64_t ms = 0, seq = 0;
    size_t dash = c.find('-');
    if (dash == absl::string_view::npos) {
      absl::SimpleAtoi(c, &ms);
    } else {
      absl::SimpleAtoi(c.substr(0, dash), &ms);
      absl::SimpleAtoi(c.substr(dash + 1), &seq);
    }
    return std::make_pair(ms, seq);
  };
  const auto x = split(a), y = split(b);
  return x < y ? -1 : (x == y ? 0 : 1);
}

bool ParseEventAnnouncement(absl::string_view message, std::string* user, StoredEvent* event,
                            std::string* origin) {
  size_t a = message.find('\n');
  if (a == absl::string_view::npos) return false;
  size_t b = message.find('\n', a + 1);
  if (b == absl::string_view::npos) return false;
  size_t c = message.find('\n', b + 1);
  if (c == absl::string_view::npos) return false;
  const absl::string_view name = message.substr(0, a);
  const size_t space = name.find(' ');
  *user = std::string(name.substr(0, space));
  if (origin != nullptr) {
    *origin = space == absl::string_view::npos ? "" : std::string(name.substr(space + 1));
  }
  event->cursor = std::string(message.substr(a + 1, b - a - 1));
  event->prev = std::string(message.substr(b + 1, c - b - 1));
  event->payload = std::string(message.substr(c + 1));
  return true;
}

EventLog::EventLog(RedisClient* redis, const Keys* keys, EventLogConfig config)
    : redis_(redis), keys_(keys), config_(config) {}

absl::StatusOr<EventPage> EventLog::ReadAfter(absl::string_view user, absl::string_view after,
                                              int limit) {
  const std::string from = (after == "0") ? "0-0" : std::string(after);
  ScriptCall call(*keys_, config_, 0);
  call.Key(keys_->Events(user));
  call.Key(keys_->EventsLast(user));
  call.Arg(from);
  call.Arg(static_cast<int64_t>(limit));
  auto reply = call.Run(*redis_, ReadEventsScript());
  if (!reply.ok()) return reply.status();
  if (!reply->is_array() || reply->elements.size() != 2) {
    return absl::InternalError("read_events: unexpected reply");
  }
  EventPage page;
  page.last_cursor = reply->elements[0].AsString();
  for (const RedisReply& entry : reply->elements[1].elements) {
    if (entry.elements.size() != 2) continue;
    StoredEvent ev;
    ev.cursor = entry.elements[0].AsString();
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "p") ev.prev = fields[i + 1].str;
      if (fields[i].str == "e") ev.payload = fields[i + 1].str;
    }
    page.events.push_back(std::move(ev));
  }
  if (!page.events.empty()) {
    page.gap = page.events.front().prev != from;
  } else {
    // Nothing after the cursor: fine if the cursor is the newest ever written; otherwise the
    // events after it were trimmed away (or the cursor is not from this log).
    page.gap = page.last_cursor != from;
  }
  return page;
}

absl::StatusOr<std::string> EventLog::LastCursor(absl::string_view user) {
  auto reply = redis_->Command({"GET", keys_->EventsLast(user)});
  if (!reply.ok()) return reply.status();
  return reply->is_nil() ? std::string("0-0") : reply->str;
}

absl::StatusOr<std::string> EventLog::Append(absl::string_view user, std::string payload,
                                             int64_t now_ms) {
  std::vector<std::pair<std::string, std::string>> one;
  one.emplace_back(std::string(user), std::move(payload));
  auto cursors = AppendMany(std::move(one), now_ms);
  if (!cursors.ok()) return cursors.status();
  return (*cursors)[0];
}

absl::StatusOr<std::vector<std::string>> EventLog::AppendMany(
    std::vector<std::pair<std::string, std::string>> events, int64_t now_ms) {
  std::vector<std::string> cursors;
  if (events.empty()) return cursors;
  ScriptCall call(*keys_, config_, now_ms);
  for (auto& [user, payload] : events) call.Event(user, std::move(payload));
  auto reply = call.Run(*redis_, AppendEventsScript());
  if (!reply.ok()) return reply.status();
  if (!reply->is_array() || reply->elements.size() != 2 ||
      reply->elements[1].elements.size() != events.size()) {
    return absl::InternalError("append_events: unexpected reply");
  }
  for (const RedisReply& c : reply->elements[1].elements) cursors.push_back(c.AsString());
  return cursors;
}

}  // namespace backline::store
