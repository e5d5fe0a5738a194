#include "services/chat/redis_thread_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/chat/chat_lua.h"
#include "services/chat/thread_ids.h"
#include "services/common/events.h"
#include "services/common/validation.h"

namespace backline::chat {
namespace {

constexpr int kMaxAttempts = 16;

BL_DEFINE_SCRIPT(PostScript, kPostMessageLua)
BL_DEFINE_SCRIPT(OpenThreadScript, kOpenThreadLua)
BL_DEFINE_SCRIPT(JoinThreadScript, kJoinThreadLua)
BL_DEFINE_SCRIPT(ReplaceMessageScript, kReplaceMessageLua)
BL_DEFINE_SCRIPT(MarkReadScript, kMarkReadLua)
BL_DEFINE_SCRIPT(TypingScript, kTypingLua)
BL_DEFINE_SCRIPT(RateHitScript, kRateHitLua)

int64_t HourOf(absl::Time t) { return absl::ToUnixMillis(t) / 3600000; }

absl::Status CheckThreadId(absl::string_view id) {
  if (IsValidServerId("thr", id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("thread_id: \"", id.substr(0, 40), "\" is not a thread id"));
}

// Fills `t` from a thread hash as HGETALL returns it.
void ThreadFromHash(const store::RedisReply& fields, v1::Thread* t) {
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& f = fields.elements[i].str;
    const store::RedisReply& v = fields.elements[i + 1];
    if (f == "kind") {
      const int k = static_cast<int>(v.AsInteger());
      if (v1::ThreadKind_IsValid(k)) t->set_kind(static_cast<v1::ThreadKind>(k));
    } else if (f == "escalation") {
      t->set_escalation_id(v.str);
    } else if (f == "team") {
      t->set_team(v.str);
    } else if (f == "site") {
      t->set_site(v.str);
    } else if (f == "created") {
      *t->mutable_create_time() = ToProtoTime(absl::FromUnixMillis(v.AsInteger()));
    } else if (f == "last_activity") {
      *t->mutable_last_activity_time() = ToProtoTime(absl::FromUnixMillis(v.AsInteger()));
    } else if (f == "last_seq") {
      t->set_last_seq(v.AsInteger());
    }
  }
}

void SetMembers(const store::RedisReply& set, v1::Thread* t) {
  std::vector<std::string> members;
  for (const auto& m : set.elements) members.push_back(m.str);
  std::sort(members.begin(), members.end());
  t->clear_participants();
  for (std::string& m : members) t->add_participants(std::move(m));
}

void SetReadState(const store::RedisReply& marker, v1::Thread* t) {
  t->set_read_seq(marker.AsInteger(0));
  t->set_unread_count(std::max<int64_t>(0, t->last_seq() - t->read_seq()));
}

v1::Event ThreadChangedEvent(const v1::Thread& t, absl::Time now) {
  v1::Event ev = EventAt(now);
  v1::Thread* shown = ev.mutable_thread_changed()->mutable_thread();
  *shown = t;
  shown->clear_read_seq();  // the recipient's own marker is not the viewer's
  shown->clear_unread_count();
  return ev;
}

}  // namespace

std::string HitCounterPrefix(absl::string_view site, absl::string_view bot,
                             absl::string_view article_id) {
  return absl::StrCat(site, "|", bot, "|", article_id);
}

RedisThreadStore::RedisThreadStore(store::RedisClient* redis, const store::Keys* keys,
                                   store::EventLogConfig events, const Clock* clock)
    : redis_(redis), keys_(keys), events_(events), clock_(clock) {}

store::ScriptCall RedisThreadStore::NewCall() const {
  return store::ScriptCall(*keys_, events_, clock_->NowMillis());
}

std::string RedisThreadStore::MembersKey(const v1::Thread& thread) const {
  return thread.kind() == v1::THREAD_KIND_TEAM ? keys_->TeamIndex(thread.team())
                                               : keys_->ThreadMembers(thread.id());
}

absl::StatusOr<v1::Thread> RedisThreadStore::Get(absl::string_view thread_id,
                                                 absl::string_view viewer) {
  BL_RETURN_IF_ERROR(CheckThreadId(thread_id));
  auto replies = redis_->Pipeline(
      {{"HGETALL", keys_->Thread(thread_id)},
       {"SMEMBERS", keys_->ThreadMembers(thread_id)},
       {"HGET", keys_->ThreadReadMarkers(thread_id), std::string(viewer.empty() ? "-" : viewer)}});
  if (!replies.ok()) return replies.status();
  if ((*replies)[0].elements.empty()) {
    return absl::NotFoundError(absl::StrCat("no thread ", thread_id));
  }
  v1::Thread t;
  t.set_id(std::string(thread_id));
  ThreadFromHash((*replies)[0], &t);
  if (t.kind() == v1::THREAD_KIND_TEAM) {
    auto members = redis_->Command({"SMEMBERS", keys_->TeamIndex(t.team())});
    if (!members.ok()) return members.status();
    SetMembers(*members, &t);
  } else {
    SetMembers((*replies)[1], &t);
  }
  if (!viewer.empty()) SetReadState((*replies)[2], &t);
  return t;
}

absl::StatusOr<v1::Message> RedisThreadStore::Post(v1::Message message, absl::string_view session,
                                                   const PostRate* rate, bool* duplicate) {
  *duplicate = false;
  const std::string cmid_field = message.client_msg_id().empty()
                                     ? ""
                                     : absl::StrCat(message.sender(), ":", message.client_msg_id());
  const bool hit = message.kind() == v1::MESSAGE_KIND_KB_HIT;
  std::optional<v1::Thread> known = Known(message.thread_id());
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (!known) {
      BL_ASSIGN_OR_RETURN(v1::Thread read, Get(message.thread_id()));
      known = std::move(read);
    }
    const v1::Thread& thread = *known;
    const absl::Time now = clock_->Now();
    message.set_seq(thread.last_seq() + 1);
    *message.mutable_create_time() = ToProtoTime(now);
    const std::string payload = MessagePostedEvent(message, now).SerializeAsString();

    store::ScriptCall call = NewCall();
    call.Key(keys_->Thread(thread.id()));
    call.Key(MembersKey(thread));
    call.Key(keys_->ThreadMessages(thread.id()));
    call.Key(keys_->ThreadClientIds(thread.id()));
    call.Key(keys_->ThreadReadMarkers(thread.id()));
    call.Key(keys_->PostRate(message.sender()));
    call.Key(keys_->KnowledgeStats(HourOf(now)));
    for (const std::string& p : thread.participants()) call.Key(keys_->UserThreads(p));
    call.Arg(message.sender());
    call.Arg(cmid_field);
    call.Arg(message.seq());
    call.Arg(message.SerializeAsString());
    call.Arg(rate == nullptr ? "" : absl::StrCat(rate->per_second));
    call.Arg(rate == nullptr ? 0 : rate->burst);
    call.Arg(hit ? HitCounterPrefix(thread.site(), message.sender(), message.kb_hit().article_id())
                 : "");
    call.Arg(hit ? message.kb_hit().title() : "");
    call.Arg(static_cast<int64_t>(thread.participants_size()));
    for (const std::string& p : thread.participants()) {
      call.Arg(p);
      call.Event(p, payload, p == message.sender() ? session : "");
    }
    auto reply = call.Run(*redis_, PostScript());
    if (!reply.ok()) return reply.status();
    const std::string status = store::ScriptStatus(*reply);
    if (status == "OK") {
      known->set_last_seq(message.seq());
      Remember(*known);
      return message;
    }
    if (status == "SEQ" && reply->elements.size() > 1) {
      known->set_last_seq(reply->elements[1].AsInteger());
      continue;
    }
    if (status == "EXISTS") {
      v1::Message stored;
      if (reply->elements.size() < 2 || !stored.ParseFromString(reply->elements[1].str)) {
        return absl::DataLossError("stored message does not parse");
      }
      *duplicate = true;
      return stored;
    }
    if (status == "NOT_FOUND") {
      Forget(message.thread_id());
      return absl::NotFoundError(absl::StrCat("no thread ", message.thread_id()));
    }
    if (status == "NOT_MEMBER") {
      return absl::PermissionDeniedError(
          absl::StrCat("you are not a participant of thread ", message.thread_id()));
    }
    if (status == "RATE_LIMITED") {
      const int64_t wait_ms = reply->elements.size() > 1 ? reply->elements[1].AsInteger() : 0;
      return absl::ResourceExhaustedError(absl::StrCat(
          "posting too fast (at most ", rate->burst, " at once, then ", rate->per_second,
          " per second); the next post may go in ", wait_ms, " ms"));
    }
    if (status != "CONFLICT") return absl::InternalError(absl::StrCat("post_message: ", status));
    known.reset();
  }
  return absl::AbortedError("the thread is too busy right now; post again");
}

std::optional<v1::Thread> RedisThreadStore::Known(absl::string_view thread_id) {
  absl::MutexLock lock(&known_mu_);
  auto it = known_.find(thread_id);
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

void RedisThreadStore::Remember(const v1::Thread& thread) {
  absl::MutexLock lock(&known_mu_);
  auto it = known_.find(thread.id());
  if (it == known_.end()) {
    if (known_.size() >= kMaxKnownThreads) known_.clear();
    known_.emplace(thread.id(), thread);
  } else if (thread.last_seq() > it->second.last_seq()) {
    // Posts that raced on this instance finish in any order; the newest number stays.
    it->second = thread;
  }
}

void RedisThreadStore::Forget(absl::string_view thread_id) {
  absl::MutexLock lock(&known_mu_);
  known_.erase(thread_id);
}

absl::StatusOr<v1::KnowledgeHitRating> RedisThreadStore::RateHit(const v1::Thread& thread,
                                                                 int64_t seq,
                                                                 absl::string_view person,
                                                                 bool helpful) {
  auto stored = redis_->Command({"HGET", keys_->ThreadMessages(thread.id()), absl::StrCat(seq)});
  if (!stored.ok()) return stored.status();
  if (stored->is_nil()) {
    return absl::NotFoundError(absl::StrCat("thread ", thread.id(), " has no message ", seq));
  }
  v1::Message m;
  if (!m.ParseFromString(stored->str)) return absl::DataLossError("stored message does not parse");
  if (m.kind() != v1::MESSAGE_KIND_KB_HIT || m.deleted()) {
    return absl::FailedPreconditionError(absl::StrCat("message ", seq, " of thread ", thread.id(),
                                                      m.deleted() ? " was deleted"
                                                                  : " is not a knowledge-base hit"));
  }
  store::ScriptCall call = NewCall();
  call.Key(keys_->HitMarks(thread.id(), seq));
  call.Key(keys_->KnowledgeStats(HourOf(FromProtoTime(m.create_time()))));
  call.Arg(std::string(person));
  call.Arg(helpful ? "1" : "0");
  call.Arg(HitCounterPrefix(thread.site(), m.sender(), m.kb_hit().article_id()));
  auto reply = call.Run(*redis_, RateHitScript());
  if (!reply.ok()) return reply.status();
  if (store::ScriptStatus(*reply) != "OK" || reply->elements.size() < 3) {
    return absl::InternalError("rate_hit: unexpected reply");
  }
  v1::KnowledgeHitRating out;
  out.set_thread_id(thread.id());
  out.set_seq(seq);
  out.set_helpful(static_cast<int32_t>(reply->elements[1].AsInteger()));
  out.set_not_helpful(static_cast<int32_t>(reply->elements[2].AsInteger()));
  return out;
}

absl::StatusOr<std::vector<v1::Message>> RedisThreadStore::List(absl::string_view thread_id,
                                                                int64_t after_seq,
                                                                int64_t before_seq, int limit,
                                                                bool newest) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(thread_id));
  int64_t lo = after_seq + 1;
  int64_t hi = thread.last_seq();
  if (before_seq > 0) hi = std::min(hi, before_seq - 1);
  std::vector<v1::Message> out;
  if (lo > hi) return out;
  if (newest) {
    lo = std::max(lo, hi - limit + 1);
  } else {
    hi = std::min(hi, lo + limit - 1);
  }
  std::vector<std::string> cmd = {"HMGET", keys_->ThreadMessages(thread_id)};
  for (int64_t s = lo; s <= hi; ++s) cmd.push_back(absl::StrCat(s));
  auto reply = redis_->Command(cmd);
  if (!reply.ok()) return reply.status();
  for (const auto& r : reply->elements) {
    if (r.is_nil()) continue;
    v1::Message m;
    if (!m.ParseFromString(r.str)) return absl::DataLossError("stored message does not parse");
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<v1::Thread> RedisThreadStore::OpenDirect(absl::string_view a, absl::string_view b) {
  const std::string id = DirectThreadId(a, b);
  auto existing = Get(id, a);
  if (!absl::IsNotFound(existing.status())) return existing;
  const absl::Time now = clock_->Now();
  v1::Thread t;
  t.set_id(id);
  t.set_kind(v1::THREAD_KIND_DIRECT);
  t.add_participants(std::string(std::min(a, b)));
  t.add_participants(std::string(std::max(a, b)));
  *t.mutable_create_time() = ToProtoTime(now);
  *t.mutable_last_activity_time() = ToProtoTime(now);
  store::ScriptCall call = NewCall();
  call.Key(keys_->Thread(id));
  call.Key(keys_->ThreadMembers(id));
  call.Key(keys_->UserThreads(a));
  call.Key(keys_->UserThreads(b));
  for (const std::string& arg :
       {id, absl::StrCat(static_cast<int>(v1::THREAD_KIND_DIRECT)), std::string(), std::string(),
        std::string("2"), std::string(a), std::string(b), std::string("1")}) {
    call.Arg(arg);
  }
  const std::string event = ThreadChangedEvent(t, now).SerializeAsString();
  call.Event(a, event);
  call.Event(b, event);
  auto reply = call.Run(*redis_, OpenThreadScript());
  if (!reply.ok()) return reply.status();
  return Get(id, a);
}

absl::StatusOr<v1::Thread> RedisThreadStore::OpenTeam(absl::string_view team,
                                                      absl::string_view site,
                                                      absl::string_view opener) {
  const std::string id = TeamThreadId(team);
  auto existing = Get(id, opener);
  if (!absl::IsNotFound(existing.status())) return existing;
  store::ScriptCall call = NewCall();
  call.Key(keys_->Thread(id));
  call.Key(keys_->ThreadMembers(id));
  call.Key(keys_->UserThreads(opener));
  for (const std::string& arg :
       {id, absl::StrCat(static_cast<int>(v1::THREAD_KIND_TEAM)), std::string(team),
        std::string(site), std::string("1"), std::string(opener), std::string("0")}) {
    call.Arg(arg);
  }
  auto reply = call.Run(*redis_, OpenThreadScript());
  if (!reply.ok()) return reply.status();
  return Get(id, opener);
}

absl::StatusOr<v1::Thread> RedisThreadStore::Join(absl::string_view thread_id,
                                                  absl::string_view person) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(thread_id));
    if (thread.kind() != v1::THREAD_KIND_ESCALATION) {
      return absl::FailedPreconditionError("only escalation threads can be joined");
    }
    const int before = thread.participants_size();
    v1::Thread after = thread;
    after.add_participants(std::string(person));
    std::sort(after.mutable_participants()->begin(), after.mutable_participants()->end());
    store::ScriptCall call = NewCall();
    call.Key(keys_->Thread(thread_id));
    call.Key(keys_->ThreadMembers(thread_id));
    call.Key(keys_->UserThreads(person));
    call.Arg(std::string(thread_id));
    call.Arg(std::string(person));
    call.Arg(static_cast<int64_t>(before));
    const std::string event = ThreadChangedEvent(after, clock_->Now()).SerializeAsString();
    for (const std::string& p : after.participants()) call.Event(p, event);
    auto reply = call.Run(*redis_, JoinThreadScript());
    if (!reply.ok()) return reply.status();
    const std::string status = store::ScriptStatus(*reply);
    if (status == "OK" || status == "ALREADY") return Get(thread_id, person);
    if (status == "NOT_FOUND") return absl::NotFoundError(absl::StrCat("no thread ", thread_id));
  }
  return absl::AbortedError("the thread kept changing; join again");
}

absl::StatusOr<v1::Message> RedisThreadStore::Change(absl::string_view thread_id, int64_t seq,
                                                     absl::string_view editor,
                                                     absl::string_view text, bool remove) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(thread_id));
    auto stored = redis_->Command({"HGET", keys_->ThreadMessages(thread_id), absl::StrCat(seq)});
    if (!stored.ok()) return stored.status();
    if (stored->is_nil()) {
      return absl::NotFoundError(absl::StrCat("no message ", seq, " in thread ", thread_id));
    }
    v1::Message m;
    if (!m.ParseFromString(stored->str)) return absl::DataLossError("stored message is corrupt");
    if (m.sender() != editor) {
      return absl::PermissionDeniedError("only its author may edit or delete a message");
    }
    if (m.deleted()) return absl::FailedPreconditionError("the message is deleted");
    const absl::Time now = clock_->Now();
    if (remove) {
      m.set_deleted(true);
      m.clear_text();
      m.clear_kb_hit();
    } else {
      m.set_text(std::string(text));
    }
    *m.mutable_edit_time() = ToProtoTime(now);
    v1::Event ev = EventAt(now);
    *ev.mutable_message_changed()->mutable_message() = m;
    const std::string event = ev.SerializeAsString();
    store::ScriptCall call = NewCall();
    call.Key(keys_->ThreadMessages(thread_id));
    call.Arg(seq);
    call.Arg(stored->str);
    call.Arg(m.SerializeAsString());
    for (const std::string& p : thread.participants()) call.Event(p, event);
    auto reply = call.Run(*redis_, ReplaceMessageScript());
    if (!reply.ok()) return reply.status();
    if (store::ScriptStatus(*reply) == "OK") return m;
  }
  return absl::AbortedError("the message kept changing; try again");
}

absl::StatusOr<v1::Thread> RedisThreadStore::MarkRead(absl::string_view thread_id,
                                                      absl::string_view person, int64_t seq) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(thread_id, person));
  if (seq < 0 || seq > thread.last_seq()) {
    return absl::InvalidArgumentError(
        absl::StrCat("seq: ", seq, " is not a message of the thread (1..", thread.last_seq(), ")"));
  }
  v1::Event ev = EventAt(clock_->Now());
  v1::ReadMarker* marker = ev.mutable_read_marker();
  marker->set_thread_id(std::string(thread_id));
  marker->set_person(std::string(person));
  marker->set_seq(seq);
  const std::string event = ev.SerializeAsString();
  store::ScriptCall call = NewCall();
  call.Key(keys_->ThreadReadMarkers(thread_id));
  call.Arg(std::string(person));
  call.Arg(seq);
  for (const std::string& p : thread.participants()) call.Event(p, event);
  auto reply = call.Run(*redis_, MarkReadScript());
  if (!reply.ok()) return reply.status();
  thread.set_read_seq(reply->elements.size() > 1 ? reply->elements[1].AsInteger()
                                                 : thread.read_seq());
  thread.set_unread_count(std::max<int64_t>(0, thread.last_seq() - thread.read_seq()));
  return thread;
}

absl::Status RedisThreadStore::Typing(absl::string_view thread_id, absl::string_view person) {
  BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(thread_id));
  v1::Event ev = EventAt(clock_->Now());
  ev.mutable_typing()->set_thread_id(std::string(thread_id));
  ev.mutable_typing()->set_person(std::string(person));
  store::ScriptCall call = NewCall();
  call.Key(keys_->TypingLimit(thread_id, person));
  call.Arg(ev.SerializeAsString());
  for (const std::string& p : thread.participants()) {
    if (p != person) call.Arg(p);
  }
  return call.Run(*redis_, TypingScript()).status();
}

absl::StatusOr<v1::ListThreadsResponse> RedisThreadStore::ListThreads(
    absl::string_view person, int limit, absl::string_view page_token) {
  int64_t offset = 0;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &offset) || offset < 0)) {
    return absl::InvalidArgumentError("page_token: not a token from a previous page");
  }
  auto ids = redis_->Command({"ZREVRANGE", keys_->UserThreads(person), absl::StrCat(offset),
                              absl::StrCat(offset + limit - 1)});
  if (!ids.ok()) return ids.status();
  v1::ListThreadsResponse response;
  if (ids->elements.empty()) return response;
  std::vector<std::vector<std::string>> cmds;
  for (const auto& id : ids->elements) {
    cmds.push_back({"HGETALL", keys_->Thread(id.str)});
    cmds.push_back({"SMEMBERS", keys_->ThreadMembers(id.str)});
    cmds.push_back({"HGET", keys_->ThreadReadMarkers(id.str), std::string(person)});
  }
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < ids->elements.size(); ++i) {
    if ((*replies)[3 * i].elements.empty()) continue;
    v1::Thread* t = response.add_threads();
    t->set_id(ids->elements[i].str);
    ThreadFromHash((*replies)[3 * i], t);
    // A team thread's participants are its team; they are listed by GetThread.
    if (t->kind() != v1::THREAD_KIND_TEAM) SetMembers((*replies)[3 * i + 1], t);
    SetReadState((*replies)[3 * i + 2], t);
  }
  if (static_cast<int>(ids->elements.size()) == limit) {
    response.set_next_page_token(absl::StrCat(offset + limit));
  }
  return response;
}

}  // namespace backline::chat
