#include "services/common/events.h"

#include <string>

#include "google/protobuf/util/time_util.h"

namespace backline {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(t));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t));
}

v1::Event EventAt(absl::Time now) {
  v1::Event ev;
  *ev.mutable_time() = ToProtoTime(now);
  return ev;
}

v1::Event MessagePostedEvent(const v1::Message& message, absl::Time now) {
  v1::Event ev = EventAt(now);
  *ev.mutable_message_posted()->mutable_message() = message;
  return ev;
}

v1::Event NoticeEvent(absl::string_view code, absl::string_view text, absl::Time now) {
  v1::Event ev = EventAt(now);
  ev.mutable_notice()->set_code(std::string(code));
  ev.mutable_notice()->set_text(std::string(text));
  return ev;
}

}  // namespace backline
