#include "services/presence/watch_scope.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/validation.h"

namespace backline::presence {

absl::StatusOr<std::vector<std::string>> ResolveWatchScope(
    RedisRosterStore& roster, const Principal& caller, const v1::WatchPresenceRequest& request) {
  constexpr size_t kMaxWatched = 5000;
  const bool admin = caller.role == v1::ROLE_ADMIN;
  if (caller.role == v1::ROLE_BOT) return absl::PermissionDeniedError("bots do not watch presence");
  v1::Person me;
  if (auto found = roster.Get(caller.id); found.ok()) {
    me = std::move(*found);
  } else if (!admin) {
    return absl::PermissionDeniedError(absl::StrCat("\"", caller.id, "\" is not on the roster"));
  }
  std::string site = request.site(), team = request.team();
  std::vector<std::string> people(request.people().begin(), request.people().end());
  if (site.empty() && team.empty() && people.empty()) {
    if (admin) return absl::InvalidArgumentError("name a site, a team or people to watch");
    if (caller.role == v1::ROLE_SUPERVISOR) {
      site = me.site();
    } else if (caller.role == v1::ROLE_TEAM_LEADER) {
      team = me.team();
    } else if (!me.mentor().empty()) {
      people.push_back(me.mentor());
    } else {
      return absl::FailedPreconditionError("you have no mentor whose presence you could watch");
    }
  }
  std::set<std::string> watched;
  if (!site.empty()) {
    if (!admin && !(caller.role == v1::ROLE_SUPERVISOR && site == me.site())) {
      return absl::PermissionDeniedError(absl::StrCat("you may not watch site ", site));
    }
    BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, roster.SiteMembers(site));
    watched.insert(ids.begin(), ids.end());
  }
  if (!team.empty()) {
    BL_ASSIGN_OR_RETURN(std::vector<std::string> ids, roster.TeamMembers(team));
    if (!admin && !(caller.role == v1::ROLE_TEAM_LEADER && team == me.team())) {
      // A supervisor may watch any team of their site.
      BL_ASSIGN_OR_RETURN(std::vector<v1::Person> members, roster.GetMany(ids));
      const bool in_site = caller.role == v1::ROLE_SUPERVISOR &&
                           std::all_of(members.begin(), members.end(),
                                       [&](const v1::Person& p) { return p.site() == me.site(); });
      if (!in_site)
        return absl::PermissionDeniedError(absl::StrCat("you may not watch team ", team));
    }
    watched.insert(ids.begin(), ids.end());
  }
  for (size_t i = 0; i < people.size(); ++i) {
    BL_RETURN_IF_ERROR(CheckName(absl::StrCat("people[", i, "]"), people[i]));
    BL_ASSIGN_OR_RETURN(v1::Person p, roster.Get(people[i]));
    const bool allowed = admin || p.id() == me.mentor() || p.id() == caller.id ||
                         (caller.role == v1::ROLE_SUPERVISOR && p.site() == me.site()) ||
                         (caller.role == v1::ROLE_TEAM_LEADER && p.team() == me.team());
    if (!allowed) {
      return absl::PermissionDeniedError(absl::StrCat("you may not watch ", p.id()));
    }
    watched.insert(p.id());
  }
  if (watched.size() > kMaxWatched) {
    return absl::ResourceExhaustedError(
        absl::StrCat("watching ", watched.size(), " people is over the limit of ", kMaxWatched));
  }
  return std::vector<std::string>(watched.begin(), watched.end());
}

}  // namespace backline::presence
