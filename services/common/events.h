// Building the events of the per-user event stream, shared by every service that records them.
#pragma once

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "backline/v1/common.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace backline {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);

// Notice code sent to someone removed from the roster; their event streams end after it.
inline constexpr absl::string_view kRemovedFromRoster = "removed_from_roster";

// An empty event stamped `now`; the caller sets the payload.
v1::Event EventAt(absl::Time now);
v1::Event MessagePostedEvent(const v1::Message& message, absl::Time now);
v1::Event NoticeEvent(absl::string_view code, absl::string_view text, absl::Time now);

}  // namespace backline
