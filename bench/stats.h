// Latency samples and their summary: percentiles, throughput, and ratios to a floor.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace backline::bench {

class Samples {
 public:
  void Add(absl::Duration d) { micros_.push_back(absl::ToDoubleMicroseconds(d)); }
  size_t count() const { return micros_.size(); }
  // The q-quantile (0..1) in milliseconds; 0 without samples.
  double QuantileMs(double q) const;
  double MaxMs() const;
  void Merge(const Samples& other);

 private:
  mutable std::vector<double> micros_;
  mutable bool sorted_ = false;
};

// One row of a report: a name, latency percentiles, an optional rate and the ratio of its median
// to a floor's median.
struct Row {
  explicit Row(std::string n = "") : name(std::move(n)) {}
  std::string name;
  Samples samples;
  double per_second = 0;    // 0: not a throughput figure
  double floor_p50_ms = 0;  // 0: no ratio
  std::string note;
};

// Markdown table of the rows.
std::string MarkdownTable(const std::vector<Row>& rows);
// One row as a JSON object: name, note, n, p50_ms, p90_ms, p99_ms, max_ms, per_second,
// floor_p50_ms (and p50_over_floor when there is a floor).
nlohmann::json RowJson(const Row& row);
// JSON array of the rows.
std::string Json(const std::vector<Row>& rows);

}  // namespace backline::bench
