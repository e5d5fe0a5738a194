#include "services/presence/redis_presence_store.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/validation.h"
#include "services/presence/presence_lua.h"

namespace backline::presence {
namespace {

using google::protobuf::util::TimeUtil;

BL_DEFINE_SCRIPT(SetStatusScript, kSetStatusLua)
BL_DEFINE_SCRIPT(TouchSessionScript, kTouchSessionLua)
BL_DEFINE_SCRIPT(ReleaseSessionScript, kReleaseSessionLua)
BL_DEFINE_SCRIPT(CheckLivenessScript, kCheckLivenessLua)
BL_DEFINE_SCRIPT(InstanceGoneScript, kInstanceGoneLua)

std::string StreamSession(absl::string_view instance) { return absl::StrCat("i:", instance); }
BL_DEFINE_SCRIPT(SelectCandidatesScript, kSelectCandidatesLua)

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
  // Someone whose desktops all went quiet is shown OFFLINE whatever they had chosen (which
  // comes back if a desktop does, within the grace period).
  if (!alive && p.status() != v1::PRESENCE_STATUS_OFFLINE) {
    p.set_status(v1::PRESENCE_STATUS_OFFLINE);
    p.set_reason("no desktop connected");
  }
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

store::ScriptCall RedisPresenceStore::NewCall() const {
  return store::ScriptCall(*keys_, events_, clock_->NowMillis());
}

absl::StatusOr<v1::Presence> RedisPresenceStore::SetStatus(absl::string_view person,
                                                           v1::PresenceStatus status,
                                                           absl::string_view reason, bool by_self) {
  BL_RETURN_IF_ERROR(CheckName("person", person));
  if (status == v1::PRESENCE_STATUS_UNSPECIFIED || !v1::PresenceStatus_IsValid(status)) {
    return absl::InvalidArgumentError(
        "status: must be one of available, on_call, wrap_up, break, meeting, offline");
  }
  BL_RETURN_IF_ERROR(CheckText("reason", reason, 0, 200));
  const int64_t expiry = clock_->NowMillis() + absl::ToInt64Milliseconds(config_.liveness_timeout);
  store::ScriptCall call = NewCall();
  call.Key(keys_->Person(person));
  call.Key(keys_->Presence(person));
  call.Key(keys_->Offerable());
  call.Key(keys_->Sessions(person));
  call.Key(keys_->Liveness());
  call.Arg(std::string(person));
  call.Arg(static_cast<int64_t>(status));
  call.Arg(std::string(reason));
  call.Arg(by_self ? absl::StrCat("h:", expiry) : "");
  call.Arg(expiry);
  auto reply = call.Run(*redis_, SetStatusScript());
  if (!reply.ok()) return reply.status();
  const std::string st = store::ScriptStatus(*reply);
  if (st == "NOT_FOUND") return NotOnRoster(person);
  if (st != "OK" || reply->elements.size() < 3) {
    return absl::InternalError(absl::StrCat("set_status: ", st));
  }
  return PresenceFromHash(person, reply->elements[1],
                          static_cast<int>(reply->elements[2].AsInteger()));
}

absl::StatusOr<v1::Presence> RedisPresenceStore::Touch(absl::string_view person,
                                                       absl::string_view session,
                                                       const std::string& value, int64_t check_at,
                                                       absl::string_view instance) {
  store::ScriptCall call = NewCall();
  call.Key(keys_->Person(person));
  call.Key(keys_->Presence(person));
  call.Key(keys_->Offerable());
  call.Key(keys_->Sessions(person));
  call.Key(keys_->Liveness());
  call.Key(keys_->InstancePeople(instance.empty() ? "none" : instance));
  call.Arg(std::string(person));
  call.Arg(std::string(session));
  call.Arg(value);
  call.Arg(check_at > 0 ? absl::StrCat(check_at) : "");
  call.Arg(instance.empty() ? "0" : "1");
  auto reply = call.Run(*redis_, TouchSessionScript());
  if (!reply.ok()) return reply.status();
  const std::string st = store::ScriptStatus(*reply);
  if (st == "NOT_FOUND") return NotOnRoster(person);
  if (st != "OK" || reply->elements.size() < 3) {
    return absl::InternalError(absl::StrCat("touch_session: ", st));
  }
  return PresenceFromHash(person, reply->elements[1],
                          static_cast<int>(reply->elements[2].AsInteger()));
}

absl::StatusOr<v1::Presence> RedisPresenceStore::Heartbeat(absl::string_view person,
                                                           absl::string_view session) {
  BL_RETURN_IF_ERROR(CheckToken("session_id", session));
  const int64_t expiry = clock_->NowMillis() + absl::ToInt64Milliseconds(config_.liveness_timeout);
  return Touch(person, session, absl::StrCat("h:", expiry), expiry, "");
}

absl::Status RedisPresenceStore::AttachStream(absl::string_view person, absl::string_view session,
                                              absl::string_view instance) {
  return Touch(person, session, StreamSession(instance), 0, instance).status();
}

absl::Status RedisPresenceStore::ReleaseStream(absl::string_view person, absl::string_view session,
                                               absl::string_view instance) {
  store::ScriptCall call = NewCall();
  call.Key(keys_->Sessions(person));
  call.Key(keys_->Liveness());
  call.Arg(std::string(person));
  call.Arg(std::string(session));
  call.Arg(StreamSession(instance));
  call.Arg(clock_->NowMillis() + absl::ToInt64Milliseconds(config_.liveness_timeout));
  return call.Run(*redis_, ReleaseSessionScript()).status();
}

absl::StatusOr<bool> RedisPresenceStore::RenewInstance(absl::string_view instance) {
  const int64_t until = clock_->NowMillis() + absl::ToInt64Milliseconds(config_.liveness_timeout);
  auto reply =
      redis_->Command({"ZADD", keys_->Instances(), absl::StrCat(until), std::string(instance)});
  if (!reply.ok()) return reply.status();
  return reply->AsInteger() == 1;
}

absl::Status RedisPresenceStore::DropInstance(absl::string_view instance) {
  return redis_->Command({"ZREM", keys_->Instances(), std::string(instance)}).status();
}

absl::Status RedisPresenceStore::CheckLiveness(absl::string_view person) {
  store::ScriptCall call = NewCall();
  call.Key(keys_->Presence(person));
  call.Key(keys_->Offerable());
  call.Key(keys_->Sessions(person));
  call.Key(keys_->Liveness());
  call.Key(keys_->Instances());
  call.Arg(std::string(person));
  call.Arg(absl::ToInt64Milliseconds(config_.grace));
  return call.Run(*redis_, CheckLivenessScript()).status();
}

absl::StatusOr<std::vector<std::string>> RedisPresenceStore::LapsedInstances() {
  auto reply = redis_->Command(
      {"ZRANGEBYSCORE", keys_->Instances(), "-inf", absl::StrCat(clock_->NowMillis())});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const auto& e : reply->elements) out.push_back(e.str);
  return out;
}

absl::Status RedisPresenceStore::InstanceGone(absl::string_view instance) {
  store::ScriptCall call = NewCall();
  call.Key(keys_->Instances());
  call.Key(keys_->InstancePeople(instance));
  call.Key(keys_->Liveness());
  call.Arg(std::string(instance));
  return call.Run(*redis_, InstanceGoneScript()).status();
}

absl::StatusOr<v1::Presence> RedisPresenceStore::Get(absl::string_view person) {
  BL_RETURN_IF_ERROR(CheckName("person", person));
  auto replies = redis_->Pipeline({{"EXISTS", keys_->Person(person)},
                                   {"HGETALL", keys_->Presence(person)},
                                   {"HLEN", keys_->Sessions(person)}});
  if (!replies.ok()) return replies.status();
  if ((*replies)[0].AsInteger() == 0) return NotOnRoster(person);
  return PresenceFromHash(person, (*replies)[1], static_cast<int>((*replies)[2].AsInteger()));
}

absl::StatusOr<std::vector<v1::Presence>> RedisPresenceStore::GetMany(
    const std::vector<std::string>& people) {
  std::vector<v1::Presence> out;
  if (people.empty()) return out;
  std::vector<std::vector<std::string>> cmds;
  for (const std::string& p : people) {
    cmds.push_back({"HGETALL", keys_->Presence(p)});
    cmds.push_back({"HLEN", keys_->Sessions(p)});
  }
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < people.size(); ++i) {
    const store::RedisReply& fields = (*replies)[2 * i];
    if (fields.elements.empty()) continue;
    out.push_back(
        PresenceFromHash(people[i], fields, static_cast<int>((*replies)[2 * i + 1].AsInteger())));
  }
  return out;
}

store::ScriptCall RedisPresenceStore::SelectionCall(const HelperRequirements& req, int limit) {
  store::ScriptCall call = NewCall();
  // Keys a flag switches off are not read; the offerable index stands in for them.
  call.Key(req.on_call_pool ? keys_->OnCallIndex() : keys_->Offerable());
  call.Key(req.language.empty() ? keys_->Offerable() : keys_->LanguageIndex(req.language));
  call.Key(req.excluded_set_key.empty() ? keys_->Offerable() : req.excluded_set_key);
  call.Key(keys_->Scratch());
  call.Key(keys_->Scratch() + ":2");
  call.Key(req.scope_key.empty() ? keys_->Offerable() : req.scope_key);
  const bool round_robin = req.ranking == HelperRequirements::Ranking::kRoundRobin;
  call.Key(round_robin ? req.round_robin_key : keys_->Offerable());
  for (const std::string& k : req.role_keys) call.Key(k);
  for (const auto& [skill, min] : req.skills) call.Key(keys_->SkillIndex(skill));
  call.Arg(static_cast<int64_t>(limit));
  call.Arg(req.exclude_person);
  call.Arg(req.language.empty() ? "0" : "1");
  call.Arg(req.excluded_set_key.empty() ? "0" : "1");
  call.Arg(req.scope_key.empty() ? "0" : "1");
  call.Arg(static_cast<int64_t>(req.role_keys.size()));
  call.Arg(req.only_person);
  static constexpr const char* kRankingCode[] = {"p", "i", "l", "r"};
  // One skill by proficiency among the offerable: the free indexes are that ranking already.
  const bool from_free_indexes = req.ranking == HelperRequirements::Ranking::kProficiency &&
                                 req.skills.size() == 1 && !req.on_call_pool &&
                                 req.only_person.empty();
  call.Arg(from_free_indexes ? "P" : kRankingCode[static_cast<int>(req.ranking)]);
  for (const auto& [skill, min] : req.skills) call.Arg(static_cast<int64_t>(min));
  return call;
}

namespace {

absl::Status NoSkills() { return absl::InvalidArgumentError("skills: at least one is required"); }

std::vector<Candidate> CandidatesFromReply(const store::RedisReply& reply, bool on_call_pool) {
  std::vector<Candidate> out;
  const auto& e = reply.elements;
  for (size_t i = 0; i + 4 <= e.size(); i += 4) {
    out.push_back({e[i].str, static_cast<int>(e[i + 1].AsInteger()), e[i + 2].AsInteger(),
                   static_cast<int>(e[i + 3].AsInteger()), on_call_pool});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Candidate>> RedisPresenceStore::SelectCandidates(
    const HelperRequirements& req, int limit) {
  if (req.skills.empty()) return NoSkills();
  return SelectionResult(SelectionCall(req, limit).Run(*redis_, SelectCandidatesScript()), req);
}

store::RedisClient::ScriptInvocation RedisPresenceStore::SelectionInvocation(
    const HelperRequirements& req, int limit) {
  return SelectionCall(req, limit).Build(SelectCandidatesScript());
}

absl::StatusOr<std::vector<Candidate>> RedisPresenceStore::SelectionResult(
    const absl::StatusOr<store::RedisReply>& reply, const HelperRequirements& req) {
  if (!reply.ok()) return reply.status();
  return CandidatesFromReply(*reply, req.on_call_pool);
}

absl::StatusOr<std::vector<absl::StatusOr<std::vector<Candidate>>>>
RedisPresenceStore::SelectCandidatesMany(const std::vector<HelperRequirements>& reqs, int limit) {
  std::vector<store::RedisClient::ScriptInvocation> calls;
  for (const HelperRequirements& req : reqs) {
    if (!req.skills.empty()) calls.push_back(SelectionInvocation(req, limit));
  }
  BL_ASSIGN_OR_RETURN(auto replies, redis_->EvalMany(calls));
  std::vector<absl::StatusOr<std::vector<Candidate>>> out;
  size_t next = 0;
  for (const HelperRequirements& req : reqs) {
    out.push_back(req.skills.empty() ? NoSkills() : SelectionResult(replies[next++], req));
  }
  return out;
}

}  // namespace backline::presence
