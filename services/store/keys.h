// The Redis key schema of Backline: every key any service reads or writes is built here, from
// ids that were validated before (person, skill, team and site ids are [a-z0-9._-], server ids
// are [a-z0-9-]), so user input can never reach across keys.
//
// All keys start with the deployment's prefix (default `bl`). Scripts receive every key they
// touch in KEYS, so a deployment whose prefix is a hash tag (`{site-a}`) keeps all its keys in
// one slot and runs unchanged on Redis Cluster, one site per slot.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace backline::store {

class Keys {
 public:
  explicit Keys(std::string prefix = "bl") : prefix_(std::move(prefix)) {}
  const std::string& prefix() const { return prefix_; }

  // --- roster ---
  // Hash: the person's profile (`proto` = serialized Person, plus role/team/site/capacity).
  std::string Person(absl::string_view id) const { return Key("person:", id); }
  // Sorted set of all person ids (score 0, ordered by id).
  std::string People() const { return Key("people", ""); }
  // Counter: bumped by every roster change, so that concurrent applies cannot interleave.
  std::string RosterVersion() const { return Key("roster:version", ""); }
  // A random id of the roster as last applied: unlike the version (a counter), never the same
  // twice, even when Redis lost its data and the roster was applied again.
  std::string RosterStamp() const { return Key("roster:stamp", ""); }
  // Sorted set per skill: person id -> proficiency.
  std::string SkillIndex(absl::string_view skill) const { return Key("idx:skill:", skill); }
  // Set per language tag (and each of its prefixes): person ids.
  std::string LanguageIndex(absl::string_view tag) const { return Key("idx:lang:", tag); }
  std::string TeamIndex(absl::string_view team) const { return Key("idx:team:", team); }
  std::string SiteIndex(absl::string_view site) const { return Key("idx:site:", site); }
  std::string RoleIndex(absl::string_view role) const { return Key("idx:role:", role); }

  // --- presence ---
  // Hash: status (as chosen), reason, since, load, offers, capacity, idle_since, missed,
  // alive, offline_since.
  std::string Presence(absl::string_view id) const { return Key("presence:", id); }
  // Hash: desktop session id -> `h:<expiry ms>` (heartbeats) or `i:<instance>` (open stream).
  std::string Sessions(absl::string_view id) const { return Key("sessions:", id); }
  // Sorted set: person -> when their liveness must be checked next (ms); also the claim queue
  // of the liveness worker.
  std::string Liveness() const { return Key("liveness", ""); }
  // Sorted set: chat instance id -> until when it is alive (ms). Sessions of open event streams
  // live as long as the instance serving them.
  std::string Instances() const { return Key("instances", ""); }
  // Set of people with a session on a chat instance.
  std::string InstancePeople(absl::string_view instance) const {
    return Key("instance:people:", instance);
  }
  // Sorted set of people who may be offered work now -> idle_since (ms). Kept in step with the
  // presence hashes by every script that changes one of them.
  std::string Offerable() const { return Key("idx:offerable", ""); }
  // Zset per skill and proficiency level: the offerable people with that skill at that level ->
  // idle_since (ms), kept with the offerable index (the scripts build these names from the
  // offerable index's, so the two must stay side by side). The top of a one-skill ranking is
  // read from them, best level first, without intersecting whole sets.
  std::string FreeIndex(absl::string_view skill, int level) const {
    return Key("idx:free:", absl::StrCat(skill, ":", level));
  }
  // String, present once every presence hash carries its person's skills (set by the first
  // roster change after an upgrade): until then the free indexes may be incomplete and are not
  // read.
  std::string FreeIndexReady() const { return Key("idx:free_ready", ""); }
  // Zset: people ON_CALL, alive and below capacity (idle-since scores): whom a policy may let
  // take URGENT escalations while on a customer call.
  std::string OnCallIndex() const { return Key("idx:on_call", ""); }
  // Hash: bot id -> serialized BotSubscription, and `_version`, bumped on every change.
  std::string BotSubscriptions() const { return Key("bots", ""); }
  // String: the last person offered an escalation of a round-robin routing group.
  std::string RoundRobin(absl::string_view group) const { return Key("rr:", group); }
  // Zset: everyone's current load (held help threads and pending offers), for least-loaded order.
  std::string LoadIndex() const { return Key("idx:load", ""); }

  // --- escalations ---
  // Hash: the escalation (`proto` = serialized immutable part, plus state, version, offer...).
  std::string Escalation(absl::string_view id) const { return Key("esc:", id); }
  // String: escalation id created by (requester, request_id), for idempotent creation.
  std::string EscalationRequest(absl::string_view requester, absl::string_view request_id) const {
    return Key("escreq:", std::string(requester) + ":" + std::string(request_id));
  }
  // Sorted set of escalation ids -> creation time (ms), for service-level figures.
  std::string EscalationsByTime() const { return Key("esc:by_time", ""); }
  // Set of experts invited into the escalation's thread.
  std::string EscalationExperts(absl::string_view id) const { return Key("esc:experts:", id); }
  // Set of everyone the escalation was ever offered to.
  std::string EscalationOffered(absl::string_view id) const { return Key("esc:offered:", id); }
  // Set of people who declined (or let lapse) an offer of the escalation.
  std::string EscalationDeclined(absl::string_view id) const { return Key("esc:declined:", id); }
  // Set of escalation ids currently offered to a person (to withdraw them when they leave).
  std::string PendingOffers(absl::string_view person) const { return Key("offers:", person); }
  // Sorted set of queued escalation ids -> order score (priority, then call age).
  std::string Queue() const { return Key("queue", ""); }
  // Hash: queued escalation id -> its requirements, so a helper who becomes free can find the
  // best queued escalation they qualify for in one script.
  std::string QueueRequirements() const { return Key("queue:req", ""); }
  // Set of escalations the "looking for help" lists were told are waiting.
  std::string AnnouncedWaiting() const { return Key("waiting:announced", ""); }
  // Hash: queued escalation -> the queue position its requester was told last.
  std::string AnnouncedPositions() const { return Key("queue:announced", ""); }
  // Sorted set of timers -> due time (ms). Members are `kind|escalation|version`.
  std::string Timers() const { return Key("timers", ""); }

  // --- threads ---
  // Hash: kind, escalation, team, site, created, last_seq, last_activity.
  std::string Thread(absl::string_view id) const { return Key("thread:", id); }
  // Set of participant ids (team threads use the team index instead).
  std::string ThreadMembers(absl::string_view id) const { return Key("thread:members:", id); }
  // Hash: seq -> serialized Message.
  std::string ThreadMessages(absl::string_view id) const { return Key("thread:msgs:", id); }
  // Hash: `sender:client_msg_id` -> seq, for idempotent posts.
  std::string ThreadClientIds(absl::string_view id) const { return Key("thread:cmids:", id); }
  // Hash: participant -> sequence number of the newest message they have read.
  std::string ThreadReadMarkers(absl::string_view id) const { return Key("thread:read:", id); }
  // Sorted set of a person's threads -> last activity (ms).
  std::string UserThreads(absl::string_view person) const { return Key("user:threads:", person); }
  // Hash: tokens, at — the token bucket limiting a bot's posts (expires when full again).
  std::string PostRate(absl::string_view bot) const { return Key("rate:post:", bot); }
  // Hash: person -> 1 (helpful) or 0 (not) — everyone's mark on knowledge-base hit `seq`.
  std::string HitMarks(absl::string_view thread, int64_t seq) const {
    return Key("kb:marks:", std::string(thread) + ":" + std::to_string(seq));
  }
  // Hash of the knowledge-base hits posted in one hour (`hour` = ms since the epoch / 3600000):
  // `<site>|<bot>|<article>|posted`, `...|helpful`, `...|not_helpful` counters and `...|title`.
  std::string KnowledgeStats(int64_t hour) const {
    return Key("kb:stats:", std::to_string(hour));
  }

  // String with a short expiry: a typing indicator of `person` in thread `id` was sent lately.
  std::string TypingLimit(absl::string_view id, absl::string_view person) const {
    return Key("typing:", std::string(id) + ":" + std::string(person));
  }

  // A key scripts may use for intermediate results; they delete it before they return (scripts
  // run one at a time, so one key serves all).
  std::string Scratch() const { return Key("scratch", ""); }

  // --- events ---
  // Stream: the person's event log; entry id = cursor, fields `p` (previous cursor) and `e`.
  std::string Events(absl::string_view user) const { return Key("events:", user); }
  // String: the newest cursor ever written to the person's log (survives trimming).
  std::string EventsLast(absl::string_view user) const { return Key("events:last:", user); }
  // Pub/sub channel announcing every appended event: `user \n cursor \n prev \n payload`.
  std::string EventChannel() const { return Key("chan:events", ""); }
  // Pub/sub channel that wakes routers: `available <person>`, `unavailable <person>`, `roster`.
  std::string RoutingChannel() const { return Key("chan:routing", ""); }
  // Pub/sub channel naming every person whose presence changed.
  std::string PresenceChannel() const { return Key("chan:presence", ""); }

 private:
  std::string Key(absl::string_view kind, absl::string_view id) const {
    std::string k;
    k.reserve(prefix_.size() + 1 + kind.size() + id.size());
    k.append(prefix_).append(":").append(kind.data(), kind.size()).append(id.data(), id.size());
    return k;
  }
  std::string prefix_;
};

}  // namespace backline::store
