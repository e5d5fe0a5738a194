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

// Nearest-rank percentile.
int64_t Percentile(std::vector<int64_t>& v, double q) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

void StatsBuilder::AddTo(Bucket& b, const v1::Escalation& e) {
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

v1::StatsBucket StatsBuilder::Figures(Bucket& b) {
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

StatsBuilder::StatsBuilder(absl::Time from, absl::Time to, std::string site)
    : from_(from), to_(to), site_(std::move(site)) {}

void StatsBuilder::Add(const v1::Escalation& e) {
  const absl::Time created = FromProtoTime(e.timeline().create_time());
  if (created < from_ || created > to_) return;
  if (!site_.empty() && e.site() != site_) return;
  AddTo(total_, e);
  if (e.skills_size() > 0) AddTo(by_skill_[e.skills(0).skill()], e);
  AddTo(by_team_[e.team()], e);
}

v1::Stats StatsBuilder::Finish() {
  v1::Stats stats;
  *stats.mutable_from_time() = ToProtoTime(from_);
  *stats.mutable_to_time() = ToProtoTime(to_);
  *stats.mutable_total() = Figures(total_);
  stats.mutable_total()->set_key("total");
  for (auto& [key, b] : by_skill_) {
    v1::StatsBucket* f = stats.add_by_skill();
    *f = Figures(b);
    f->set_key(key);
  }
  for (auto& [key, b] : by_team_) {
    v1::StatsBucket* f = stats.add_by_team();
    *f = Figures(b);
    f->set_key(key);
  }
  return stats;
}

}  // namespace backline::router
