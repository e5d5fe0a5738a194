#include "services/router/stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "google/protobuf/util/time_util.h"
#include "services/common/events.h"

namespace backline::router {
namespace {

using google::protobuf::util::TimeUtil;

struct Bucket {
  v1::StatsBucket figures;
  std::vector<int64_t> to_offer_ms;
  std::vector<int64_t> to_accept_ms;
};

// Nearest-rank percentile.
int64_t Percentile(std::vector<int64_t>& v, double q) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

void Add(Bucket& b, const v1::Escalation& e) {
  v1::StatsBucket& f = b.figures;
  f.set_created(f.created() + 1);
  const auto& t = e.timeline();
  const int64_t created = TimeUtil::TimestampToMilliseconds(t.create_time());
  if (t.has_first_offer_time()) {
    f.set_offered(f.offered() + 1);
    b.to_offer_ms.push_back(TimeUtil::TimestampToMilliseconds(t.first_offer_time()) - created);
  }
  if (t.has_accept_time()) {
    f.set_accepted(f.accepted() + 1);
    b.to_accept_ms.push_back(TimeUtil::TimestampToMilliseconds(t.accept_time()) - created);
  }
  switch (e.state()) {
    case v1::ESCALATION_STATE_RESOLVED:
      f.set_resolved(f.resolved() + 1);
      break;
    case v1::ESCALATION_STATE_CANCELLED:
      f.set_cancelled(f.cancelled() + 1);
      break;
    case v1::ESCALATION_STATE_EXPIRED:
      f.set_expired(f.expired() + 1);
      break;
    case v1::ESCALATION_STATE_QUEUED:
    case v1::ESCALATION_STATE_OFFERED:
      f.set_waiting(f.waiting() + 1);
      break;
    default:
      break;
  }
}

v1::StatsBucket Finish(Bucket& b) {
  v1::StatsBucket f = b.figures;
  if (!b.to_offer_ms.empty()) {
    *f.mutable_time_to_offer_p50() =
        TimeUtil::MillisecondsToDuration(Percentile(b.to_offer_ms, 0.5));
    *f.mutable_time_to_offer_p90() =
        TimeUtil::MillisecondsToDuration(Percentile(b.to_offer_ms, 0.9));
  }
  if (!b.to_accept_ms.empty()) {
    *f.mutable_time_to_accept_p50() =
        TimeUtil::MillisecondsToDuration(Percentile(b.to_accept_ms, 0.5));
    *f.mutable_time_to_accept_p90() =
        TimeUtil::MillisecondsToDuration(Percentile(b.to_accept_ms, 0.9));
  }
  return f;
}

}  // namespace

v1::Stats ComputeStats(const std::vector<v1::Escalation>& escalations, absl::Time from,
                       absl::Time to, absl::string_view site) {
  Bucket total;
  std::map<std::string, Bucket> by_skill, by_team;
  for (const v1::Escalation& e : escalations) {
    const absl::Time created = FromProtoTime(e.timeline().create_time());
    if (created < from || created > to) continue;
    if (!site.empty() && e.site() != site) continue;
    Add(total, e);
    if (e.skills_size() > 0) Add(by_skill[e.skills(0).skill()], e);
    Add(by_team[e.team()], e);
  }
  v1::Stats stats;
  *stats.mutable_from_time() = ToProtoTime(from);
  *stats.mutable_to_time() = ToProtoTime(to);
  *stats.mutable_total() = Finish(total);
  stats.mutable_total()->set_key("total");
  for (auto& [key, b] : by_skill) {
    v1::StatsBucket* f = stats.add_by_skill();
    *f = Finish(b);
    f->set_key(key);
  }
  for (auto& [key, b] : by_team) {
    v1::StatsBucket* f = stats.add_by_team();
    *f = Finish(b);
    f->set_key(key);
  }
  return stats;
}

}  // namespace backline::router
