#include "services/router/redis_escalation_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/validation.h"
#include "services/router/escalation_rules.h"
#include "services/router/router_lua.h"

namespace backline::router {
namespace {

using google::protobuf::util::TimeUtil;

BL_DEFINE_SCRIPT(CreateScript, kCreateEscalationLua)
BL_DEFINE_SCRIPT(OfferScript, kOfferEscalationLua)
BL_DEFINE_SCRIPT(AcceptScript, kAcceptOfferLua)
BL_DEFINE_SCRIPT(ReleaseScript, kReleaseOfferLua)
BL_DEFINE_SCRIPT(CloseScript, kCloseEscalationLua)
BL_DEFINE_SCRIPT(QueuedForScript, kQueuedForHelperLua)
BL_DEFINE_SCRIPT(ReopenScript, kReopenEscalationLua)
BL_DEFINE_SCRIPT(TransferScript, kTransferEscalationLua)
BL_DEFINE_SCRIPT(InviteScript, kInviteExpertLua)
BL_DEFINE_SCRIPT(BroadcastScript, kMarkBroadcastLua)
BL_DEFINE_SCRIPT(SetBotSubscriptionScript, kSetBotSubscriptionLua)

google::protobuf::Timestamp Millis(const store::RedisReply& r) {
  return TimeUtil::MillisecondsToTimestamp(r.AsInteger());
}

int64_t ToMillis(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMilliseconds(t);
}

}  // namespace

RedisEscalationStore::RedisEscalationStore(store::RedisClient* redis, const store::Keys* keys,
                                           store::EventLogConfig events, const Clock* clock)
    : redis_(redis), keys_(keys), events_(events), clock_(clock) {}

namespace {

// The escalation of a hash as HGETALL returns it; false if the hash is empty or corrupt.
bool EscalationFromHash(absl::string_view id, const store::RedisReply& hash, v1::Escalation* out) {
  const auto& fields = hash.elements;
  if (fields.empty()) return false;
  v1::Escalation& e = *out;
  std::string offers;
  google::protobuf::Timestamp offer_time, offer_deadline;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& f = fields[i].str;
    const store::RedisReply& v = fields[i + 1];
    if (f == "proto") {
      v1::Escalation body;
      if (!body.ParseFromString(v.str)) return false;
      body.MergeFrom(e);
      e = std::move(body);
    } else if (f == "state") {
      e.set_state(static_cast<v1::EscalationState>(v.AsInteger()));
    } else if (f == "version") {
      e.set_version(v.AsInteger());
    } else if (f == "offers") {
      offers = v.str;
    } else if (f == "offer_time") {
      offer_time = Millis(v);
    } else if (f == "offer_deadline") {
      offer_deadline = Millis(v);
    } else if (f == "helper") {
      e.set_helper(v.str);
    } else if (f == "thread") {
      e.set_thread_id(v.str);
    } else if (f == "first_offer_time") {
      *e.mutable_timeline()->mutable_first_offer_time() = Millis(v);
    } else if (f == "accept_time") {
      *e.mutable_timeline()->mutable_accept_time() = Millis(v);
    } else if (f == "resolve_time") {
      *e.mutable_timeline()->mutable_resolve_time() = Millis(v);
    } else if (f == "cancel_time") {
      *e.mutable_timeline()->mutable_cancel_time() = Millis(v);
    } else if (f == "expire_time") {
      *e.mutable_timeline()->mutable_expire_time() = Millis(v);
    } else if (f == "broadcast_time") {
      *e.mutable_timeline()->mutable_broadcast_time() = Millis(v);
    } else if (f == "reopen_time") {
      *e.mutable_timeline()->mutable_reopen_time() = Millis(v);
    } else if (f == "close_reason") {
      e.set_close_reason(v.str);
    }
  }
  // `helper offer-id;...`, best-ranked first (see offer_escalation.lua).
  for (absl::string_view entry : absl::StrSplit(offers, ';', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(entry, ' ');
    v1::Offer* offer = e.add_offers();
    offer->set_offer_id(parts.second);
    offer->set_escalation_id(std::string(id));
    offer->set_helper(parts.first);
    *offer->mutable_offer_time() = offer_time;
    *offer->mutable_deadline() = offer_deadline;
  }
  if (e.offers_size() > 0) *e.mutable_offer() = e.offers(0);
  return true;
}

std::vector<std::string> SortedMembers(const store::RedisReply& set) {
  std::vector<std::string> ids;
  for (const auto& d : set.elements) ids.push_back(d.str);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

namespace {

// What Get reads of one escalation: one pipeline of kEscalationReads commands.
constexpr size_t kEscalationReads = 7;

void AddEscalationReads(const store::Keys& keys, absl::string_view id,
                        std::vector<std::vector<std::string>>* cmds) {
  cmds->push_back({"HGETALL", keys.Escalation(id)});
  cmds->push_back({"SMEMBERS", keys.EscalationDeclined(id)});
  cmds->push_back({"HGET", keys.Thread(ThreadIdFor(id)), "last_seq"});
  cmds->push_back({"SMEMBERS", keys.EscalationOffered(id)});
  cmds->push_back({"SMEMBERS", keys.EscalationExperts(id)});
  cmds->push_back({"ZRANK", keys.Queue(), std::string(id)});
  cmds->push_back({"SMEMBERS", keys.ThreadMembers(ThreadIdFor(id))});
}

// The escalation from the kEscalationReads replies starting at `r`.
absl::StatusOr<StoredEscalation> EscalationFromReads(absl::string_view id,
                                                     const store::RedisReply* r) {
  StoredEscalation out;
  if (r[0].elements.empty()) return absl::NotFoundError(absl::StrCat("no escalation ", id));
  if (!EscalationFromHash(id, r[0], &out.escalation)) {
    return absl::DataLossError("stored escalation is corrupt");
  }
  v1::Escalation& e = out.escalation;
  for (std::string& d : SortedMembers(r[1])) e.add_declined_by(std::move(d));
  for (std::string& d : SortedMembers(r[3])) e.add_offered_to(std::move(d));
  for (std::string& d : SortedMembers(r[4])) e.add_experts(std::move(d));
  if (e.state() == v1::ESCALATION_STATE_QUEUED && !r[5].is_nil()) {
    e.set_queue_position(static_cast<int>(r[5].AsInteger()) + 1);
  }
  out.thread_last_seq = r[2].AsInteger(0);
  out.thread_members = SortedMembers(r[6]);
  return out;
}

absl::Status InvalidEscalationId(absl::string_view id) {
  return absl::InvalidArgumentError(
      absl::StrCat("escalation id: \"", id.substr(0, 40), "\" is not an escalation id"));
}

}  // namespace

absl::StatusOr<StoredEscalation> RedisEscalationStore::Get(absl::string_view id) {
  if (!IsValidServerId("esc", id)) return InvalidEscalationId(id);
  std::vector<std::vector<std::string>> cmds;
  AddEscalationReads(*keys_, id, &cmds);
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  return EscalationFromReads(id, replies->data());
}

absl::StatusOr<std::vector<absl::StatusOr<StoredEscalation>>> RedisEscalationStore::GetMany(
    const std::vector<std::string>& ids) {
  std::vector<std::vector<std::string>> cmds;
  for (const std::string& id : ids) {
    if (IsValidServerId("esc", id)) AddEscalationReads(*keys_, id, &cmds);
  }
  std::vector<store::RedisReply> replies;
  if (!cmds.empty()) {
    BL_ASSIGN_OR_RETURN(replies, redis_->Pipeline(cmds));
  }
  std::vector<absl::StatusOr<StoredEscalation>> out;
  size_t next = 0;
  for (const std::string& id : ids) {
    if (!IsValidServerId("esc", id)) {
      out.push_back(InvalidEscalationId(id));
      continue;
    }
    out.push_back(EscalationFromReads(id, &replies[next]));
    next += kEscalationReads;
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<std::string>>> RedisEscalationStore::SetsMembers(
    const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> cmds;
  for (const std::string& k : keys) cmds.push_back({"SMEMBERS", k});
  std::vector<std::vector<std::string>> out;
  if (cmds.empty()) return out;
  auto replies = redis_->Pipeline(cmds);
  if (!replies.ok()) return replies.status();
  for (const auto& r : *replies) out.push_back(SortedMembers(r));
  return out;
}

absl::StatusOr<bool> RedisEscalationStore::MarkAnnounced(absl::string_view id, bool waiting) {
  auto r = redis_->Command({waiting ? "SADD" : "SREM", keys_->AnnouncedWaiting(), id});
  if (!r.ok()) return r.status();
  return r->AsInteger() == 1;
}

absl::StatusOr<bool> RedisEscalationStore::PositionChanged(absl::string_view id, int position) {
  auto r = redis_->Command({"HGET", keys_->AnnouncedPositions(), id});
  if (!r.ok()) return r.status();
  if (r->AsInteger(0) == position) return false;
  auto w = position > 0
               ? redis_->Command({"HSET", keys_->AnnouncedPositions(), id, absl::StrCat(position)})
               : redis_->Command({"HDEL", keys_->AnnouncedPositions(), id});
  if (!w.ok()) return w.status();
  return true;
}

namespace {

// Where ForEachCreatedSince has read up to in the index of escalations by time: the last
// (score, id) read — Redis orders equal scores by member — and the ids listed to read next.
struct CreatedCursor {
  std::string score, id;
  std::vector<std::string> ids;
  bool more = false;  // the page after the cursor was full: there may be more after it

  // Takes the ids of the cursor's own millisecond (`tied`, the whole of it: escalations made in
  // the same millisecond are few) that come after it, then `after` (id, score pairs with later
  // scores, at most `page` of them), and moves the cursor to the last of those.
  void Take(const store::RedisReply* tied, const store::RedisReply& after, int page) {
    ids.clear();
    if (tied != nullptr) {
      for (const store::RedisReply& m : tied->elements) {
        if (m.str > id) ids.push_back(m.str);
      }
      if (!ids.empty()) id = ids.back();
    }
    for (size_t k = 0; k + 1 < after.elements.size(); k += 2) {
      ids.push_back(after.elements[k].str);
      id = after.elements[k].str;
      score = after.elements[k + 1].AsString();
    }
    more = static_cast<int>(after.elements.size() / 2) == page;
  }
};

}  // namespace

absl::Status RedisEscalationStore::ForEachCreatedSince(
    absl::Time from, const std::function<bool(const v1::Escalation&)>& fn, int page) {
  page = std::max(page, 1);
  const std::string key = keys_->EscalationsByTime();
  const std::string limit = absl::StrCat(page);
  // Pages are read after a (score, id) cursor rather than by rank, so that escalations created
  // meanwhile, which may sort before the cursor within its millisecond, move nothing.
  auto first = redis_->Command({"ZRANGE", key, absl::StrCat(absl::ToUnixMillis(from)), "+inf",
                                "BYSCORE", "LIMIT", "0", limit, "WITHSCORES"});
  if (!first.ok()) return first.status();
  CreatedCursor cursor;
  cursor.Take(nullptr, *first, page);
  while (!cursor.ids.empty()) {
    std::vector<std::vector<std::string>> cmds;
    for (const std::string& id : cursor.ids) cmds.push_back({"HGETALL", keys_->Escalation(id)});
    if (cursor.more) {
      cmds.push_back({"ZRANGE", key, cursor.score, cursor.score, "BYSCORE"});
      cmds.push_back({"ZRANGE", key, absl::StrCat("(", cursor.score), "+inf", "BYSCORE", "LIMIT",
                      "0", limit, "WITHSCORES"});
    }
    auto replies = redis_->Pipeline(cmds);
    if (!replies.ok()) return replies.status();
    for (size_t i = 0; i < cursor.ids.size(); ++i) {
      v1::Escalation e;
      if (EscalationFromHash(cursor.ids[i], (*replies)[i], &e) && !fn(e)) return absl::OkStatus();
    }
    if (!cursor.more) break;
    const size_t n = replies->size();
    cursor.Take(&(*replies)[n - 2], (*replies)[n - 1], page);
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> RedisEscalationStore::NewestCreatedSince(absl::Time from, int newest) {
  auto last = redis_->Command({"ZRANGE", keys_->EscalationsByTime(), "+inf",
                               absl::StrCat(absl::ToUnixMillis(from)), "BYSCORE", "REV", "LIMIT",
                               absl::StrCat(std::max(newest, 1) - 1), "1", "WITHSCORES"});
  if (!last.ok()) return last.status();
  if (last->elements.size() != 2) return from;
  return std::max(from, absl::FromUnixMillis(last->elements[1].AsInteger()));
}

store::ScriptCall RedisEscalationStore::NewCall(const EventList& events) {
  store::ScriptCall call(*keys_, events_, clock_->NowMillis());
  for (const auto& [user, event] : events) call.Event(user, event.SerializeAsString());
  return call;
}

absl::StatusOr<Outcome> RedisEscalationStore::RunTransition(store::ScriptCall& call,
                                                            const store::RedisScript& script,
                                                            store::RedisReply* reply_out) {
  auto reply = call.Run(*redis_, script);
  if (!reply.ok()) return reply.status();
  const std::string status = store::ScriptStatus(*reply);
  if (reply_out != nullptr) *reply_out = *reply;
  if (status == "OK") return Outcome::kOk;
  if (status == "CONFLICT") return Outcome::kConflict;
  if (status == "HELPER_GONE") return Outcome::kHelperGone;
  if (status == "LAPSED") return Outcome::kLapsed;
  if (status == "ALREADY") return Outcome::kAlready;
  return absl::InternalError(absl::StrCat(script.name(), ": unexpected reply ", status));
}

absl::StatusOr<std::string> RedisEscalationStore::Create(
    const v1::Escalation& e, absl::string_view request_id, const std::vector<Timer>& timers,
    const std::vector<std::string>& bots, int64_t bots_version, absl::string_view roster_stamp,
    const EventList& events, store::RedisClient::ScriptInvocation* then,
    absl::StatusOr<store::RedisReply>* then_reply) {
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(e.id()));
  // Without a request id the key is unique to this escalation and so never matches.
  call.Key(keys_->EscalationRequest(e.requester(), request_id.empty() ? e.id() : request_id));
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->EscalationsByTime());
  call.Key(keys_->Timers());
  call.Key(keys_->BotSubscriptions());
  call.Key(keys_->Thread(e.thread_id()));
  call.Key(keys_->ThreadMembers(e.thread_id()));
  call.Key(keys_->UserThreads(e.requester()));
  call.Key(keys_->RosterStamp());
  for (const auto& s : e.skills()) call.Key(keys_->SkillIndex(s.skill()));
  for (const std::string& bot : bots) call.Key(keys_->UserThreads(bot));
  call.Arg(e.id());
  call.Arg(ImmutablePart(e).SerializeAsString());
  call.Arg(absl::StrCat(QueueScore(e)));
  call.Arg(QueueRequirements(e));
  call.Arg(bots_version);
  call.Arg(e.thread_id());
  call.Arg(e.site());
  call.Arg(e.requester());
  call.Arg(static_cast<int64_t>(e.skills_size()));
  call.Arg(static_cast<int64_t>(bots.size()));
  call.Arg(static_cast<int64_t>(timers.size()));
  call.Arg(std::string(roster_stamp));
  for (const auto& s : e.skills()) call.Arg(s.skill());
  for (const std::string& bot : bots) call.Arg(bot);
  for (const Timer& t : timers) {
    call.Arg(t.member);
    call.Arg(absl::StrCat(absl::ToUnixMillis(t.due)));
  }
  std::vector<store::RedisClient::ScriptInvocation> calls;
  calls.push_back(call.Build(CreateScript()));
  if (then != nullptr) calls.push_back(std::move(*then));
  BL_ASSIGN_OR_RETURN(auto replies, redis_->EvalMany(calls));
  if (then != nullptr) *then_reply = std::move(replies[1]);
  absl::StatusOr<store::RedisReply>& reply = replies[0];
  if (!reply.ok()) return reply.status();
  const std::string status = store::ScriptStatus(*reply);
  if (status == "OK") return e.id();
  if (status == "EXISTS") return reply->elements[1].AsString();
  if (status == "BOTS_CHANGED") return absl::AbortedError(kBotsChanged);
  if (status == "ROSTER_CHANGED") return absl::AbortedError(kRosterChanged);
  if (status == "UNKNOWN_SKILL") {
    return absl::InvalidArgumentError(absl::StrCat("skills: nobody on the roster has the skill \"",
                                                   reply->elements[1].AsString(), "\""));
  }
  return absl::InternalError(absl::StrCat("create_escalation: ", status));
}

absl::StatusOr<Outcome> RedisEscalationStore::Offer(const v1::Escalation& before,
                                                    const v1::Escalation& after,
                                                    const EventList& events,
                                                    const OfferOptions& options,
                                                    std::string* gone, bool* was_announced) {
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Offerable());
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->Timers());
  call.Key(keys_->EscalationDeclined(before.id()));
  call.Key(keys_->EscalationOffered(before.id()));
  // Without a round-robin pointer, a key the script does not read stands in.
  call.Key(options.round_robin_key.empty() ? keys_->Offerable() : options.round_robin_key);
  call.Key(keys_->AnnouncedWaiting());
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(ToMillis(after.offer().deadline()));
  call.Arg(OfferTimerMember(after));
  call.Arg(options.round_robin_key.empty() ? "0" : "1");
  call.Arg(static_cast<int64_t>(after.offers_size()));
  for (const v1::Offer& o : after.offers()) {
    call.Key(keys_->Presence(o.helper()));
    call.Key(keys_->PendingOffers(o.helper()));
    call.Arg(o.helper());
    call.Arg(o.offer_id());
    call.Arg(options.on_call.count(o.helper()) ? "1" : "0");
  }
  store::RedisReply reply;
  auto outcome = RunTransition(call, OfferScript(), &reply);
  if (outcome.ok() && *outcome == Outcome::kHelperGone && gone != nullptr) {
    *gone = reply.elements.size() > 1 ? reply.elements[1].AsString() : "";
  }
  if (outcome.ok() && *outcome == Outcome::kOk && was_announced != nullptr) {
    *was_announced = reply.elements.size() > 1 && reply.elements[1].AsInteger() == 1;
  }
  return outcome;
}

absl::StatusOr<Outcome> RedisEscalationStore::Accept(const v1::Escalation& before,
                                                     const v1::Escalation& after,
                                                     const v1::Message& first_message,
                                                     const EventList& events) {
  const std::string& helper = after.helper();
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Presence(helper));
  call.Key(keys_->Offerable());
  call.Key(keys_->Timers());
  call.Key(keys_->PendingOffers(helper));
  call.Key(keys_->Thread(after.thread_id()));
  call.Key(keys_->ThreadMembers(after.thread_id()));
  call.Key(keys_->ThreadMessages(after.thread_id()));
  call.Key(keys_->UserThreads(before.requester()));
  call.Key(keys_->UserThreads(helper));
  call.Key(keys_->ThreadReadMarkers(after.thread_id()));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(helper);
  call.Arg(OfferTimerMember(before));
  call.Arg(after.thread_id());
  call.Arg(before.requester());
  call.Arg(first_message.SerializeAsString());
  call.Arg(first_message.seq());
  call.Arg(static_cast<int64_t>(before.offers_size() - 1));
  for (const v1::Offer& o : before.offers()) {
    if (o.helper() == helper) continue;
    call.Key(keys_->Presence(o.helper()));
    call.Key(keys_->PendingOffers(o.helper()));
    call.Arg(o.helper());
  }
  return RunTransition(call, AcceptScript());
}

absl::StatusOr<Outcome> RedisEscalationStore::Release(const v1::Escalation& before,
                                                      const v1::Escalation& after,
                                                      const std::vector<std::string>& helpers,
                                                      bool lapsed, const EventList& events,
                                                      std::vector<int>* missed) {
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Offerable());
  call.Key(keys_->Timers());
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->EscalationDeclined(before.id()));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(OfferTimerMember(before));
  call.Arg(absl::StrCat(QueueScore(after)));
  call.Arg(QueueRequirements(after));
  call.Arg(lapsed ? "1" : "0");
  call.Arg(OfferTimerMember(after));
  call.Arg(static_cast<int64_t>(helpers.size()));
  for (const std::string& helper : helpers) {
    call.Key(keys_->Presence(helper));
    call.Key(keys_->PendingOffers(helper));
    call.Arg(helper);
  }
  store::RedisReply reply;
  auto outcome = RunTransition(call, ReleaseScript(), &reply);
  if (outcome.ok() && *outcome == Outcome::kOk && missed != nullptr) {
    missed->clear();
    for (size_t i = 1; i < reply.elements.size(); ++i) {
      missed->push_back(static_cast<int>(reply.elements[i].AsInteger()));
    }
  }
  return outcome;
}

absl::StatusOr<Outcome> RedisEscalationStore::Close(const v1::Escalation& before,
                                                    const v1::Escalation& after,
                                                    const v1::Message* message,
                                                    const EventList& events) {
  // Whom the escalation holds: the helpers it is offered to, or the one who accepted it.
  std::string helper;
  std::string timer;
  if (before.state() == v1::ESCALATION_STATE_OFFERED) {
    timer = OfferTimerMember(before);
  } else if (before.state() == v1::ESCALATION_STATE_ACCEPTED) {
    helper = before.helper();
  }
  // Without an accepted helper, a key the script does not read stands in.
  const std::string holder = helper.empty() ? before.requester() : helper;
  const std::string thread = ThreadIdFor(before.id());
  const char* stamp = after.state() == v1::ESCALATION_STATE_RESOLVED    ? "resolve_time"
                      : after.state() == v1::ESCALATION_STATE_CANCELLED ? "cancel_time"
                                                                        : "expire_time";
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->Timers());
  call.Key(keys_->Presence(holder));
  call.Key(keys_->Offerable());
  call.Key(keys_->Thread(thread));
  call.Key(keys_->ThreadMessages(thread));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(static_cast<int64_t>(after.state()));
  call.Arg(stamp);
  call.Arg(after.close_reason());
  call.Arg(helper);
  call.Arg(timer);
  call.Arg(message != nullptr ? message->SerializeAsString() : "");
  call.Arg(message != nullptr ? message->seq() : 0);
  const int offered = before.state() == v1::ESCALATION_STATE_OFFERED ? before.offers_size() : 0;
  call.Arg(static_cast<int64_t>(offered));
  for (int i = 0; i < offered; ++i) {
    call.Key(keys_->Presence(before.offers(i).helper()));
    call.Key(keys_->PendingOffers(before.offers(i).helper()));
    call.Arg(before.offers(i).helper());
  }
  return RunTransition(call, CloseScript());
}

absl::StatusOr<Outcome> RedisEscalationStore::Reopen(const v1::Escalation& before,
                                                     const v1::Escalation& after, bool back,
                                                     const v1::Message& message,
                                                     const EventList& events) {
  const std::string thread = ThreadIdFor(before.id());
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Presence(before.helper()));
  call.Key(keys_->Offerable());
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->Thread(thread));
  call.Key(keys_->ThreadMessages(thread));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(before.helper());
  call.Arg(back ? "1" : "0");
  call.Arg(absl::StrCat(QueueScore(after)));
  call.Arg(QueueRequirements(after));
  call.Arg(message.SerializeAsString());
  call.Arg(message.seq());
  return RunTransition(call, ReopenScript());
}

absl::StatusOr<Outcome> RedisEscalationStore::Transfer(const v1::Escalation& before,
                                                       const v1::Escalation& after,
                                                       const v1::Message& message,
                                                       const EventList& events) {
  const std::string thread = ThreadIdFor(before.id());
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Presence(before.helper()));
  call.Key(keys_->Offerable());
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->Thread(thread));
  call.Key(keys_->ThreadMessages(thread));
  call.Key(keys_->EscalationDeclined(before.id()));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(before.helper());
  call.Arg(ImmutablePart(after).SerializeAsString());
  call.Arg(absl::StrCat(QueueScore(after)));
  call.Arg(QueueRequirements(after));
  call.Arg(message.SerializeAsString());
  call.Arg(message.seq());
  return RunTransition(call, TransferScript());
}

absl::StatusOr<Outcome> RedisEscalationStore::Invite(const v1::Escalation& before,
                                                     absl::string_view expert,
                                                     const v1::Message& message,
                                                     const EventList& events) {
  const std::string thread = ThreadIdFor(before.id());
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(before.id()));
  call.Key(keys_->Thread(thread));
  call.Key(keys_->ThreadMembers(thread));
  call.Key(keys_->ThreadMessages(thread));
  call.Key(keys_->UserThreads(expert));
  call.Key(keys_->EscalationExperts(before.id()));
  call.Arg(before.id());
  call.Arg(before.version());
  call.Arg(std::string(expert));
  call.Arg(thread);
  call.Arg(message.SerializeAsString());
  call.Arg(message.seq());
  return RunTransition(call, InviteScript());
}

absl::StatusOr<RedisEscalationStore::BotSubscriptions>
RedisEscalationStore::LoadBotSubscriptions() {
  auto reply = redis_->Command({"HGETALL", keys_->BotSubscriptions()});
  if (!reply.ok()) return reply.status();
  BotSubscriptions out;
  const auto& f = reply->elements;
  for (size_t i = 0; i + 1 < f.size(); i += 2) {
    if (f[i].str == "_version") {
      out.version = f[i + 1].AsInteger();
      continue;
    }
    v1::BotSubscription s;
    if (!s.ParseFromString(f[i + 1].str)) {
      return absl::DataLossError(
          absl::StrCat("stored subscription of bot ", f[i].str, " is corrupt"));
    }
    out.bots.push_back(std::move(s));
  }
  return out;
}

absl::Status RedisEscalationStore::SetBotSubscription(const v1::BotSubscription& subscription) {
  store::ScriptCall call = NewCall({});
  call.Key(keys_->BotSubscriptions());
  call.Arg(subscription.bot());
  call.Arg(subscription.SerializeAsString());
  return call.Run(*redis_, SetBotSubscriptionScript()).status();
}

absl::StatusOr<Outcome> RedisEscalationStore::MarkBroadcast(const v1::Escalation& e,
                                                            const EventList& events) {
  store::ScriptCall call = NewCall(events);
  call.Key(keys_->Escalation(e.id()));
  call.Arg(e.version());
  return RunTransition(call, BroadcastScript());
}

absl::StatusOr<std::vector<std::string>> RedisEscalationStore::QueueHead(int limit) {
  auto reply = redis_->Command({"ZRANGE", keys_->Queue(), "0", absl::StrCat(limit - 1)});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const auto& e : reply->elements) out.push_back(e.str);
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisEscalationStore::QueuedFor(absl::string_view helper,
                                                                         int limit, int scan) {
  store::ScriptCall call(*keys_, events_, clock_->NowMillis());
  call.Key(keys_->Queue());
  call.Key(keys_->QueueRequirements());
  call.Key(keys_->Person(helper));
  call.Arg(std::string(helper));
  call.Arg(static_cast<int64_t>(limit));
  call.Arg(static_cast<int64_t>(scan));
  auto reply = call.Run(*redis_, QueuedForScript());
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const auto& e : reply->elements) out.push_back(e.str);
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisEscalationStore::PendingOffersOf(
    absl::string_view helper) {
  auto reply = redis_->Command({"SMEMBERS", keys_->PendingOffers(helper)});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const auto& e : reply->elements) out.push_back(e.str);
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisEscalationStore::EscalationsInThreadsOf(
    absl::string_view person, int scan) {
  auto threads =
      redis_->Command({"ZREVRANGE", keys_->UserThreads(person), "0", absl::StrCat(scan - 1)});
  if (!threads.ok()) return threads.status();
  std::vector<std::string> out;
  if (threads->elements.empty()) return out;
  std::vector<std::vector<std::string>> cmds;
  for (const auto& t : threads->elements) cmds.push_back({"HGET", keys_->Thread(t.str), "escalation"});
  auto escalations = redis_->Pipeline(cmds);
  if (!escalations.ok()) return escalations.status();
  for (const auto& e : *escalations) {
    if (!e.is_nil() && !e.str.empty()) out.push_back(e.str);
  }
  return out;
}

absl::StatusOr<std::vector<v1::KnowledgeStats>> RedisEscalationStore::KnowledgeStats(
    absl::Time from, absl::Time to, absl::string_view site) {
  std::vector<std::vector<std::string>> cmds;
  for (int64_t h = absl::ToUnixMillis(from) / 3600000; h <= absl::ToUnixMillis(to) / 3600000;
       ++h) {
    cmds.push_back({"HGETALL", keys_->KnowledgeStats(h)});
  }
  auto hours = redis_->Pipeline(cmds);
  if (!hours.ok()) return hours.status();
  // Fields are `<site>|<bot>|<article>|<counter>`; the same article across hours adds up, the
  // newest hour's title stands.
  std::map<std::pair<std::string, std::string>, v1::KnowledgeStats> by_hit;
  for (const store::RedisReply& hour : *hours) {
    for (size_t i = 0; i + 1 < hour.elements.size(); i += 2) {
      std::vector<std::string> f = absl::StrSplit(hour.elements[i].str, '|');
      if (f.size() != 4 || (!site.empty() && f[0] != site)) continue;
      v1::KnowledgeStats& k = by_hit[{f[1], f[2]}];
      k.set_bot(f[1]);
      k.set_article_id(f[2]);
      const store::RedisReply& v = hour.elements[i + 1];
      if (f[3] == "title") {
        k.set_title(v.str);
      } else if (f[3] == "posted") {
        k.set_posted(k.posted() + static_cast<int32_t>(v.AsInteger()));
      } else if (f[3] == "helpful") {
        k.set_helpful(k.helpful() + static_cast<int32_t>(v.AsInteger()));
      } else if (f[3] == "not_helpful") {
        k.set_not_helpful(k.not_helpful() + static_cast<int32_t>(v.AsInteger()));
      }
    }
  }
  std::vector<v1::KnowledgeStats> out;
  for (auto& [key, k] : by_hit) out.push_back(std::move(k));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.posted() > b.posted();
  });
  return out;
}

}  // namespace backline::router
