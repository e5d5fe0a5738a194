// Service-level figures, free of storage: counts and time-to-offer / time-to-accept percentiles
// of the escalations created in a window, in total, per first required skill and per team.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "backline/v1/escalations.pb.h"

namespace backline::router {

// Takes the escalations one at a time and keeps only what the figures need of each (its counts
// and two durations per bucket), so that a month of them need not be in memory at once.
class StatsBuilder {
 public:
  // Escalations created outside [from, to], or of another site when `site` is not empty, are
  // left out.
  StatsBuilder(absl::Time from, absl::Time to, std::string site);
  void Add(const v1::Escalation& e);
  v1::Stats Finish();

 private:
  struct Bucket {
    v1::StatsBucket figures;
    std::vector<int64_t> to_offer_ms;
    std::vector<int64_t> to_accept_ms;
  };
  static void AddTo(Bucket& b, const v1::Escalation& e);
  static v1::StatsBucket Figures(Bucket& b);

  const absl::Time from_, to_;
  const std::string site_;
  Bucket total_;
  std::map<std::string, Bucket> by_skill_, by_team_;
};

}  // namespace backline::router
