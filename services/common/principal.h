// Who is calling: the person id and role that a verified token names.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "backline/v1/common.pb.h"

namespace backline {

struct Principal {
  std::string id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
};

// `agent`, `senior`, `team_leader`, `supervisor`, `bot`, `admin`.
absl::string_view RoleName(v1::Role role);
// The role a name denotes; ROLE_UNSPECIFIED for an unknown name. Accepts the short names above,
// upper or lower case, and the proto names (`ROLE_SENIOR`).
v1::Role ParseRole(absl::string_view name);

// Roles that may be offered escalations as helpers.
bool IsHelperRole(v1::Role role);

}  // namespace backline
