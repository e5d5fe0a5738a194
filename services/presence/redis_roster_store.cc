#include "services/presence/redis_roster_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/principal.h"
#include "services/common/validation.h"
#include "services/presence/presence_lua.h"
#include "services/presence/roster.h"

namespace backline::presence {
namespace {

BL_DEFINE_SCRIPT(ApplyScript, kRosterApplyLua)

// Writes one generic command into the apply script's command list.
void Cmd(store::ScriptCall& call, absl::string_view name, const std::string& key,
         std::vector<std::string> args) {
  call.Arg("C");
  call.Arg(static_cast<int64_t>(args.size()));
  call.Arg(std::string(name));
  call.Arg(static_cast<int64_t>(call.Key(key)));
  for (std::string& a : args) call.Arg(std::move(a));
}

void IndexChanges(store::ScriptCall& call, const std::string& id,
                  const std::vector<IndexEntry>& before, const std::vector<IndexEntry>& after) {
  for (const IndexEntry& e : before) {
    const bool kept = std::any_of(after.begin(), after.end(),
                                  [&](const IndexEntry& a) { return a.key == e.key; });
    if (!kept) Cmd(call, e.sorted ? "ZREM" : "SREM", e.key, {id});
  }
  for (const IndexEntry& e : after) {
    const bool same = std::find(before.begin(), before.end(), e) != before.end();
    if (same) continue;
    if (e.sorted) {
      Cmd(call, "ZADD", e.key, {absl::StrCat(e.score), id});
    } else {
      Cmd(call, "SADD", e.key, {id});
    }
  }
}

absl::StatusOr<v1::Person> PersonFromReply(absl::string_view id, const store::RedisReply& reply) {
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("person \"", id, "\" is not on the roster"));
  }
  v1::Person p;
  if (!p.ParseFromString(reply.str)) return absl::DataLossError("stored person does not parse");
  return p;
}

}  // namespace

RedisRosterStore::RedisRosterStore(store::RedisClient* redis, const store::Keys* keys,
                                   store::EventLogConfig events, const Clock* clock)
    : redis_(redis), keys_(keys), events_(events), clock_(clock) {}

absl::StatusOr<RedisRosterStore::Snapshot> RedisRosterStore::Load() {
  auto head = redis_->Pipeline({{"GET", keys_->RosterVersion()},
                                {"ZRANGE", keys_->People(), "0", "-1"},
                                {"EXISTS", keys_->FreeIndexReady()}});
  if (!head.ok()) return head.status();
  Snapshot snap;
  snap.version = (*head)[0].is_nil() ? "0" : (*head)[0].AsString();
  snap.free_indexes_ready = (*head)[2].AsInteger() == 1;
  std::vector<std::string> ids;
  for (const auto& e : (*head)[1].elements) ids.push_back(e.str);
  auto people = GetMany(ids);
  if (!people.ok()) return people.status();
  for (v1::Person& p : *people) {
    std::string id = p.id();
    snap.people.emplace(std::move(id), std::move(p));
  }
  return snap;
}

absl::StatusOr<std::vector<v1::Person>> RedisRosterStore::GetMany(
    const std::vector<std::string>& ids) {
  std::vector<v1::Person> out;
  if (ids.empty()) return out;
  std::vector<std::vector<std::string>> cmds;
  cmds.reserve(ids.size());
  for (const std::string& id : ids) cmds.push_back({"HGET", keys_->Person(id), "proto"});
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  for (const auto& r : *replies) {
    if (r.is_nil()) continue;  // removed meanwhile
    v1::Person p;
    if (!p.ParseFromString(r.str)) return absl::DataLossError("stored person does not parse");
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<v1::ApplyRosterResponse> RedisRosterStore::Apply(
    google::protobuf::RepeatedPtrField<v1::Person> people, bool dry_run) {
  BL_RETURN_IF_ERROR(ValidateRoster(&people));
  for (int attempt = 0; attempt < 5; ++attempt) {
    BL_ASSIGN_OR_RETURN(Snapshot snap, Load());
    const RosterDiff diff = DiffRoster(snap.people, people);
    v1::ApplyRosterResponse response;
    for (const v1::Person* p : diff.added) response.add_added(p->id());
    for (const v1::Person* p : diff.updated) response.add_updated(p->id());
    for (const v1::Person* p : diff.updated) {
      v1::PersonChange* change = response.add_changes();
      change->set_id(p->id());
      for (std::string& f : ChangedFields(snap.people.at(p->id()), *p))
        change->add_fields(std::move(f));
    }
    for (const std::string& id : diff.removed) response.add_removed(id);
    response.set_unchanged(diff.unchanged);
    response.set_dry_run(dry_run);
    if (dry_run || (diff.added.empty() && diff.updated.empty() && diff.removed.empty() &&
                    snap.free_indexes_ready)) {
      return response;
    }

    const int64_t now = clock_->NowMillis();
    store::ScriptCall call(*keys_, events_, now);
    call.Key(keys_->RosterVersion());
    call.Key(keys_->Offerable());
    call.Arg(snap.version);
    Cmd(call, "SET", keys_->RosterStamp(), {NewServerId("roster")});
    auto write_person = [&](const v1::Person& p) {
      Cmd(call, "HSET", keys_->Person(p.id()),
          {"proto", p.SerializeAsString(), "role", absl::StrCat(static_cast<int>(p.role())), "team",
           p.team(), "site", p.site(), "capacity", absl::StrCat(p.capacity()), "mentor", p.mentor(),
           "skills", EncodeSkills(p), "langs", EncodeLanguages(p)});
    };
    for (const v1::Person* p : diff.added) {
      write_person(*p);
      Cmd(call, "ZADD", keys_->People(), {"0", p->id()});
      IndexChanges(call, p->id(), {}, IndexEntriesFor(*p, *keys_));
      Cmd(call, "HSET", keys_->Presence(p->id()),
          {"status", absl::StrCat(static_cast<int>(v1::PRESENCE_STATUS_OFFLINE)), "since",
           absl::StrCat(now), "reason", "", "capacity", absl::StrCat(p->capacity()), "idle_since",
           absl::StrCat(now), "missed", "0", "alive", "0", "skills", EncodeSkills(*p)});
      // Someone removed and added back keeps the load of the threads they still hold.
      Cmd(call, "HINCRBY", keys_->Presence(p->id()), {"load", "0"});
      Cmd(call, "HINCRBY", keys_->Presence(p->id()), {"offers", "0"});
    }
    std::set<std::string> refreshed;
    auto refresh_presence = [&](const v1::Person& p) {
      Cmd(call, "HSET", keys_->Presence(p.id()),
          {"capacity", absl::StrCat(p.capacity()), "skills", EncodeSkills(p)});
      call.Arg("R");
      call.Arg(static_cast<int64_t>(call.Key(keys_->Presence(p.id()))));
      call.Arg(p.id());
      refreshed.insert(p.id());
    };
    for (const v1::Person* p : diff.updated) {
      write_person(*p);
      IndexChanges(call, p->id(), IndexEntriesFor(snap.people.at(p->id()), *keys_),
                   IndexEntriesFor(*p, *keys_));
      refresh_presence(*p);
    }
    if (!snap.free_indexes_ready) {
      // The first change after an upgrade gives everyone's presence hash their skills, which
      // lists the offerable in the free indexes; from then on they are complete.
      for (const v1::Person* p : diff.added) refreshed.insert(p->id());
      for (const v1::Person& p : people) {
        if (!refreshed.count(p.id())) refresh_presence(p);
      }
      Cmd(call, "SET", keys_->FreeIndexReady(), {"1"});
    }
    for (const std::string& id : diff.removed) {
      IndexChanges(call, id, IndexEntriesFor(snap.people.at(id), *keys_), {});
      // Their desktops are told, and their event streams end.
      call.Event(id,
                 NoticeEvent(kRemovedFromRoster, "You were removed from the roster.", clock_->Now())
                     .SerializeAsString());
      Cmd(call, "ZREM", keys_->People(), {id});
      Cmd(call, "DEL", keys_->Person(id), {});
      Cmd(call, "DEL", keys_->Sessions(id), {});
      Cmd(call, "ZREM", keys_->Liveness(), {id});
      Cmd(call, "HSET", keys_->Presence(id),
          {"status", absl::StrCat(static_cast<int>(v1::PRESENCE_STATUS_OFFLINE)), "alive", "0",
           "capacity", "0", "skills", ""});
      call.Arg("R");
      call.Arg(static_cast<int64_t>(call.Key(keys_->Presence(id))));
      call.Arg(id);
    }
    auto reply = call.Run(*redis_, ApplyScript());
    if (!reply.ok()) return reply.status();
    const std::string status = store::ScriptStatus(*reply);
    if (status == "CONFLICT") continue;
    if (status != "OK") return absl::InternalError(absl::StrCat("roster_apply: ", status));
    // Wake the routers: removed people's offers are withdrawn; new capacity may drain the queue.
    for (const std::string& id : diff.removed) {
      redis_->Command({"PUBLISH", keys_->RoutingChannel(), absl::StrCat("unavailable ", id)})
          .IgnoreError();
    }
    redis_->Command({"PUBLISH", keys_->RoutingChannel(), "roster"}).IgnoreError();
    return response;
  }
  return absl::AbortedError("the roster kept changing while it was being applied; try again");
}

absl::StatusOr<std::vector<std::string>> RedisRosterStore::Members(const std::string& index_key) {
  auto reply = redis_->Command({"SMEMBERS", index_key});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> ids;
  for (const auto& e : reply->elements) ids.push_back(e.str);
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<std::vector<std::string>> RedisRosterStore::SiteMembers(absl::string_view site) {
  BL_RETURN_IF_ERROR(CheckName("site", site));
  return Members(keys_->SiteIndex(site));
}

absl::StatusOr<std::vector<std::string>> RedisRosterStore::TeamMembers(absl::string_view team) {
  BL_RETURN_IF_ERROR(CheckName("team", team));
  return Members(keys_->TeamIndex(team));
}

absl::StatusOr<v1::Person> RedisRosterStore::Get(absl::string_view id) {
  BL_RETURN_IF_ERROR(CheckName("id", id));
  auto reply = redis_->Command({"HGET", keys_->Person(id), "proto"});
  if (!reply.ok()) return reply.status();
  return PersonFromReply(id, *reply);
}

absl::StatusOr<RedisRosterStore::VersionedPerson> RedisRosterStore::GetVersioned(
    absl::string_view id) {
  BL_RETURN_IF_ERROR(CheckName("id", id));
  // Redis runs a pipeline's commands in order: the stamp is read before the record.
  auto replies =
      redis_->Pipeline({{"GET", keys_->RosterStamp()}, {"HGET", keys_->Person(id), "proto"}});
  if (!replies.ok()) return replies.status();
  VersionedPerson out;
  BL_ASSIGN_OR_RETURN(out.person, PersonFromReply(id, (*replies)[1]));
  out.roster_stamp = (*replies)[0].AsString();  // "" before the first roster was applied
  return out;
}

absl::StatusOr<v1::ListPeopleResponse> RedisRosterStore::List(
    const v1::ListPeopleRequest& request) {
  // Each filter names an index; the answer is the intersection, read in one round trip.
  std::vector<std::vector<std::string>> cmds;
  if (!request.team().empty()) {
    BL_RETURN_IF_ERROR(CheckName("team", request.team()));
    cmds.push_back({"SMEMBERS", keys_->TeamIndex(request.team())});
  }
  if (!request.site().empty()) {
    BL_RETURN_IF_ERROR(CheckName("site", request.site()));
    cmds.push_back({"SMEMBERS", keys_->SiteIndex(request.site())});
  }
  if (!request.skill().empty()) {
    BL_RETURN_IF_ERROR(CheckName("skill", request.skill()));
    int min = request.min_proficiency() == 0 ? 1 : request.min_proficiency();
    if (min < 1 || min > 5) {
      return absl::InvalidArgumentError("min_proficiency: must be within 1..5");
    }
    cmds.push_back(
        {"ZRANGEBYSCORE", keys_->SkillIndex(request.skill()), absl::StrCat(min), "+inf"});
  }
  if (!request.language().empty()) {
    std::string tag;
    BL_RETURN_IF_ERROR(CanonicalLanguage("language", request.language(), &tag));
    cmds.push_back({"SMEMBERS", keys_->LanguageIndex(tag)});
  }
  if (request.role() != v1::ROLE_UNSPECIFIED) {
    if (!v1::Role_IsValid(request.role())) return absl::InvalidArgumentError("role: unknown");
    cmds.push_back({"SMEMBERS", keys_->RoleIndex(RoleName(request.role()))});
  }
  if (cmds.empty()) cmds.push_back({"ZRANGE", keys_->People(), "0", "-1"});
  int page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be within 1..1000");
  }
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  std::set<std::string> ids;
  for (const auto& e : (*replies)[0].elements) ids.insert(e.str);
  for (size_t i = 1; i < replies->size(); ++i) {
    std::set<std::string> other;
    for (const auto& e : (*replies)[i].elements) other.insert(e.str);
    std::set<std::string> both;
    std::set_intersection(ids.begin(), ids.end(), other.begin(), other.end(),
                          std::inserter(both, both.end()));
    ids.swap(both);
  }
  std::vector<std::string> page;
  for (auto it = ids.upper_bound(request.page_token());
       it != ids.end() && static_cast<int>(page.size()) < page_size; ++it) {
    page.push_back(*it);
  }
  v1::ListPeopleResponse response;
  BL_ASSIGN_OR_RETURN(std::vector<v1::Person> people, GetMany(page));
  for (v1::Person& p : people) *response.add_people() = std::move(p);
  if (!page.empty() && ids.upper_bound(page.back()) != ids.end()) {
    response.set_next_page_token(page.back());
  }
  return response;
}

}  // namespace backline::presence
