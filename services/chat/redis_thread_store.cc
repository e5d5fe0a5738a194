#include "services/chat/redis_thread_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/chat/chat_lua.h"
#include "services/common/events.h"
#include "services/common/validation.h"

namespace backline::chat {
namespace {

constexpr int kMaxPostAttempts = 16;

BL_DEFINE_SCRIPT(PostScript, kPostMessageLua)

}  // namespace

RedisThreadStore::RedisThreadStore(store::RedisClient* redis, const store::Keys* keys,
                                   store::EventLogConfig events, const Clock* clock)
    : redis_(redis), keys_(keys), events_(events), clock_(clock) {}

absl::StatusOr<v1::Thread> RedisThreadStore::Get(absl::string_view thread_id) {
  if (!IsValidServerId("thr", thread_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("thread_id: \"", thread_id.substr(0, 40), "\" is not a thread id"));
  }
  auto replies = redis_->Pipeline(
      {{"HGETALL", keys_->Thread(thread_id)}, {"SMEMBERS", keys_->ThreadMembers(thread_id)}});
  if (!replies.ok()) return replies.status();
  const auto& fields = (*replies)[0].elements;
  if (fields.empty()) return absl::NotFoundError(absl::StrCat("no thread ", thread_id));
  v1::Thread t;
  t.set_id(std::string(thread_id));
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& f = fields[i].str;
    const store::RedisReply& v = fields[i + 1];
    if (f == "kind") {
      const int k = static_cast<int>(v.AsInteger());
      if (v1::ThreadKind_IsValid(k)) t.set_kind(static_cast<v1::ThreadKind>(k));
    } else if (f == "escalation") {
      t.set_escalation_id(v.str);
    } else if (f == "created") {
      *t.mutable_create_time() = ToProtoTime(absl::FromUnixMillis(v.AsInteger()));
    } else if (f == "last_seq") {
      t.set_last_seq(v.AsInteger());
    }
  }
  std::vector<std::string> members;
  for (const auto& m : (*replies)[1].elements) members.push_back(m.str);
  std::sort(members.begin(), members.end());
  for (std::string& m : members) t.add_participants(std::move(m));
  return t;
}

absl::StatusOr<v1::Message> RedisThreadStore::Post(v1::Message message, bool* duplicate) {
  *duplicate = false;
  const std::string cmid_field = message.client_msg_id().empty()
                                     ? ""
                                     : absl::StrCat(message.sender(), ":", message.client_msg_id());
  for (int attempt = 0; attempt < kMaxPostAttempts; ++attempt) {
    BL_ASSIGN_OR_RETURN(v1::Thread thread, Get(message.thread_id()));
    const absl::Time now = clock_->Now();
    message.set_seq(thread.last_seq() + 1);
    *message.mutable_create_time() = ToProtoTime(now);
    const v1::Event event = MessagePostedEvent(message, now);
    const std::string payload = event.SerializeAsString();

    store::ScriptCall call(*keys_, events_, absl::ToUnixMillis(now));
    call.Key(keys_->Thread(thread.id()));
    call.Key(keys_->ThreadMembers(thread.id()));
    call.Key(keys_->ThreadMessages(thread.id()));
    call.Key(keys_->ThreadClientIds(thread.id()));
    call.Arg(message.sender());
    call.Arg(cmid_field);
    call.Arg(message.seq());
    call.Arg(message.SerializeAsString());
    call.Arg(static_cast<int64_t>(thread.participants_size()));
    for (const std::string& p : thread.participants()) {
      call.Arg(p);
      call.Event(p, payload);
    }
    auto reply = call.Run(*redis_, PostScript());
    if (!reply.ok()) return reply.status();
    const std::string status = store::ScriptStatus(*reply);
    if (status == "OK") return message;
    if (status == "EXISTS") {
      v1::Message stored;
      if (reply->elements.size() < 2 || !stored.ParseFromString(reply->elements[1].str)) {
        return absl::DataLossError("stored message does not parse");
      }
      *duplicate = true;
      return stored;
    }
    if (status == "NOT_FOUND") {
      return absl::NotFoundError(absl::StrCat("no thread ", message.thread_id()));
    }
    if (status == "NOT_MEMBER") {
      return absl::PermissionDeniedError(
          absl::StrCat("you are not a participant of thread ", message.thread_id()));
    }
    if (status != "CONFLICT") return absl::InternalError(absl::StrCat("post_message: ", status));
  }
  return absl::AbortedError("the thread is too busy right now; post again");
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

}  // namespace backline::chat
