#include "services/common/principal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace backline {

absl::string_view RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_AGENT:
      return "agent";
    case v1::ROLE_SENIOR:
      return "senior";
    case v1::ROLE_TEAM_LEADER:
      return "team_leader";
    case v1::ROLE_SUPERVISOR:
      return "supervisor";
    case v1::ROLE_BOT:
      return "bot";
    case v1::ROLE_ADMIN:
      return "admin";
    default:
      return "unspecified";
  }
}

v1::Role ParseRole(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  absl::string_view s = lower;
  absl::ConsumePrefix(&s, "role_");
  for (v1::Role r : {v1::ROLE_AGENT, v1::ROLE_SENIOR, v1::ROLE_TEAM_LEADER, v1::ROLE_SUPERVISOR,
                     v1::ROLE_BOT, v1::ROLE_ADMIN}) {
    if (s == RoleName(r)) return r;
  }
  if (s == "team-leader" || s == "teamleader") return v1::ROLE_TEAM_LEADER;
  return v1::ROLE_UNSPECIFIED;
}

bool IsHelperRole(v1::Role role) {
  return role == v1::ROLE_SENIOR || role == v1::ROLE_TEAM_LEADER || role == v1::ROLE_SUPERVISOR;
}

}  // namespace backline
