#include "services/presence/redis_presence_store.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/validation.h"
#include "services/presence/presence_lua.h"

namespace backline::presence {
namespace {

using google::protobuf::util::TimeUtil;

const store::RedisScript& SetStatusScript() {
  static const auto* const s =
      new store::RedisScript(store::MakeScript("set_status", kSetStatusLua));
  return *s;
}
const store::RedisScript& HeartbeatScript() {
  static const auto* const s =
      new store::RedisScript(store::MakeScript("heartbeat", kHeartbeatLua));
  return *s;
}
const store::RedisScript& SelectCandidatesScript() {
  static const auto* const s =
      new store::RedisScript(store::MakeScript("select_candidates", kSelectCandidatesLua));
  return *s;
}

absl::Status NotOnRoster(absl::string_view person) {
  return absl::NotFoundError(absl::StrCat("person \"", person, "\" is not on the roster"));
}

}  // namespace

v1::Presence PresenceFromHash(absl::string_view person, const store::RedisReply& fields,
                              int sessions) {
  v1::Presence p;
  p.set_person(std::string(person));
  p.set_status(v1::PRESENCE_STATUS_OFFLINE);
  int offers = 0;
  bool alive = false;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& f = fields.elements[i].str;
    const store::RedisReply& v = fields.elements[i + 1];
    if (f == "status") {
      const int s = static_cast<int>(v.AsInteger());
      if (v1::PresenceStatus_IsValid(s)) p.set_status(static_cast<v1::PresenceStatus>(s));
    } else if (f == "reason") {
      p.set_reason(v.str);
    } else if (f == "since") {
      *p.mutable_since() = TimeUtil::MillisecondsToTimestamp(v.AsInteger());
    } else if (f == "load") {
      p.set_load(static_cast<int>(v.AsInteger()));
    } else if (f == "offers") {
      offers = static_cast<int>(v.AsInteger());
    } else if (f == "capacity") {
      p.set_capacity(static_cast<int>(v.AsInteger()));
    } else if (f == "idle_since") {
      *p.mutable_idle_since() = TimeUtil::MillisecondsToTimestamp(v.AsInteger());
    } else if (f == "missed") {
      p.set_missed_offers(static_cast<int>(v.AsInteger()));
    } else if (f == "alive") {
      alive = v.str == "1";
    }
  }
  // Someone whose desktops all went quiet is shown OFFLINE whatever they had set.
  if (!alive) p.set_status(v1::PRESENCE_STATUS_OFFLINE);
  p.set_sessions(sessions);
  p.set_routing_state(offers > 0     ? v1::ROUTING_STATE_OFFERED
                      : p.load() > 0 ? v1::ROUTING_STATE_ENGAGED
                                     : v1::ROUTING_STATE_IDLE);
  return p;
}

RedisPresenceStore::RedisPresenceStore(store::RedisClient* redis, const store::Keys* keys,
                                       store::EventLogConfig events, const Clock* clock,
                                       PresenceConfig config)
    : redis_(redis), keys_(keys), events_(events), clock_(clock), config_(config) {}

absl::StatusOr<v1::Presence> RedisPresenceStore::SetStatus(absl::string_view person,
                                                           v1::PresenceStatus status,
                                                           absl::string_view reason) {
  BL_RETURN_IF_ERROR(CheckName("person", person));
  if (status == v1::PRESENCE_STATUS_UNSPECIFIED || !v1::PresenceStatus_IsValid(status)) {
    return absl::InvalidArgumentError(
        "status: must be one of available, on_call, wrap_up, "
        "break, meeting, offline");
  }
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  const int64_t now = clock_->NowMillis();
  store::ScriptCall call(*keys_, events_, now);
  call.Key(keys_->Person(person));
  call.Key(keys_->Presence(person));
  call.Key(keys_->Offerable());
  call.Arg(std::string(person));
  call.Arg(static_cast<int64_t>(status));
  call.Arg(std::string(reason));
  call.Arg(keys_->RoutingChannel());
  auto reply = call.Run(*redis_, SetStatusScript());
  if (!reply.ok()) return reply.status();
  const std::string st = store::ScriptStatus(*reply);
  if (st == "NOT_FOUND") return NotOnRoster(person);
  if (st != "OK" || reply->elements.size() < 2) {
    return absl::InternalError(absl::StrCat("set_status: ", st));
  }
  auto sessions = redis_->Command({"ZCOUNT", keys_->Sessions(person), absl::StrCat(now), "+inf"});
  if (!sessions.ok()) return sessions.status();
  return PresenceFromHash(person, reply->elements[1], static_cast<int>(sessions->AsInteger()));
}

absl::StatusOr<v1::Presence> RedisPresenceStore::Heartbeat(absl::string_view person,
                                                           absl::string_view session) {
  BL_RETURN_IF_ERROR(CheckToken("session_id", session));
  const int64_t now = clock_->NowMillis();
  store::ScriptCall call(*keys_, events_, now);
  call.Key(keys_->Person(person));
  call.Key(keys_->Presence(person));
  call.Key(keys_->Offerable());
  call.Key(keys_->Sessions(person));
  call.Arg(std::string(person));
  call.Arg(std::string(session));
  call.Arg(now + absl::ToInt64Milliseconds(config_.liveness_timeout));
  call.Arg(keys_->RoutingChannel());
  auto reply = call.Run(*redis_, HeartbeatScript());
  if (!reply.ok()) return reply.status();
  const std::string st = store::ScriptStatus(*reply);
  if (st == "NOT_FOUND") return NotOnRoster(person);
  if (st != "OK" || reply->elements.size() < 3) {
    return absl::InternalError(absl::StrCat("heartbeat: ", st));
  }
  return PresenceFromHash(person, reply->elements[1],
                          static_cast<int>(reply->elements[2].AsInteger()));
}

absl::StatusOr<v1::Presence> RedisPresenceStore::Get(absl::string_view person) {
  BL_RETURN_IF_ERROR(CheckName("person", person));
  const int64_t now = clock_->NowMillis();
  auto replies = redis_->Pipeline({{"EXISTS", keys_->Person(person)},
                                   {"HGETALL", keys_->Presence(person)},
                                   {"ZCOUNT", keys_->Sessions(person), absl::StrCat(now), "+inf"}});
  if (!replies.ok()) return replies.status();
  if ((*replies)[0].AsInteger() == 0) return NotOnRoster(person);
  return PresenceFromHash(person, (*replies)[1], static_cast<int>((*replies)[2].AsInteger()));
}

absl::StatusOr<std::vector<Candidate>> RedisPresenceStore::SelectCandidates(
    const HelperRequirements& req, int limit) {
  if (req.skills.empty()) return absl::InvalidArgumentError("skills: at least one is required");
  store::ScriptCall call(*keys_, events_, clock_->NowMillis());
  call.Key(keys_->Offerable());
  call.Key(req.language.empty() ? keys_->Offerable() : keys_->LanguageIndex(req.language));
  call.Key(req.excluded_set_key.empty() ? keys_->Offerable() : req.excluded_set_key);
  for (const auto& [skill, min] : req.skills) call.Key(keys_->SkillIndex(skill));
  call.Arg(static_cast<int64_t>(limit));
  call.Arg(req.exclude_person);
  call.Arg(req.language.empty() ? "0" : "1");
  call.Arg(req.excluded_set_key.empty() ? "0" : "1");
  for (const auto& [skill, min] : req.skills) call.Arg(static_cast<int64_t>(min));
  auto reply = call.Run(*redis_, SelectCandidatesScript());
  if (!reply.ok()) return reply.status();
  std::vector<Candidate> out;
  const auto& e = reply->elements;
  for (size_t i = 0; i + 3 <= e.size(); i += 3) {
    out.push_back({e[i].str, static_cast<int>(e[i + 1].AsInteger()), e[i + 2].AsInteger()});
  }
  return out;
}

}  // namespace backline::presence
