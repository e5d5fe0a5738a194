// The roster file: JSON Lines, one person per line, so that every problem is reported with its
// line number. Blank lines and lines starting with `#` are ignored.
//
//   {"id": "anna", "name": "Anna Jensen", "role": "senior", "team": "cph-billing", "site": "cph",
//    "capacity": 2, "languages": ["da", "en"], "skills": {"billing": 4}, "mentor": "bo"}
//
// (on one line). `capacity` defaults to 2 for seniors, team leaders and supervisors and to 0
// for everyone else.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backline/v1/roster.pb.h"

namespace backline::cli {

struct RosterFile {
  v1::ApplyRosterRequest request;
  // Line number (1-based) of each entry of request.people().
  std::vector<int> lines;
};

// INVALID_ARGUMENT naming the line and field for anything malformed.
absl::StatusOr<RosterFile> ParseRosterFile(const std::string& text);

// Rewrites a server message that names `people[i]` to name the file's line instead.
std::string WithLineNumbers(const std::string& message, const RosterFile& file,
                            const std::string& path);

}  // namespace backline::cli
