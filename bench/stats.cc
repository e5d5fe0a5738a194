#include "bench/stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace backline::bench {

double Samples::QuantileMs(double q) const {
  if (micros_.empty()) return 0;
  if (!sorted_) {
    std::sort(micros_.begin(), micros_.end());
    sorted_ = true;
  }
  const size_t i = std::min(micros_.size() - 1,
                            static_cast<size_t>(std::ceil(q * micros_.size())) - (q > 0 ? 1 : 0));
  return micros_[i] / 1000.0;
}

double Samples::MaxMs() const { return QuantileMs(1.0); }

void Samples::Merge(const Samples& other) {
  micros_.insert(micros_.end(), other.micros_.begin(), other.micros_.end());
  sorted_ = false;
}

std::string MarkdownTable(const std::vector<Row>& rows) {
  std::string out =
      "| figure | n | p50 ms | p90 ms | p99 ms | max ms | rate /s | p50 / floor |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const Row& r : rows) {
    const std::string name = r.note.empty() ? r.name : absl::StrCat(r.name, " (", r.note, ")");
    if (r.samples.count() == 0) {
      absl::StrAppend(&out, "| ", name, " | | | | | | | |\n");
      continue;
    }
    const double p50 = r.samples.QuantileMs(0.5);
    absl::StrAppend(&out, "| ", name, " | ", r.samples.count(), " | ", absl::StrFormat("%.3f", p50),
                    " | ", absl::StrFormat("%.3f", r.samples.QuantileMs(0.9)), " | ",
                    absl::StrFormat("%.3f", r.samples.QuantileMs(0.99)), " | ",
                    absl::StrFormat("%.3f", r.samples.MaxMs()), " | ",
                    r.per_second > 0 ? absl::StrFormat("%.0f", r.per_second) : "", " | ",
                    r.floor_p50_ms > 0 ? absl::StrFormat("%.1f×", p50 / r.floor_p50_ms) : "",
                    " |\n");
  }
  return out;
}

nlohmann::json RowJson(const Row& r) {
  nlohmann::json j = {{"name", r.name},
                      {"note", r.note},
                      {"n", r.samples.count()},
                      {"p50_ms", r.samples.QuantileMs(0.5)},
                      {"p90_ms", r.samples.QuantileMs(0.9)},
                      {"p99_ms", r.samples.QuantileMs(0.99)},
                      {"max_ms", r.samples.MaxMs()},
                      {"per_second", r.per_second},
                      {"floor_p50_ms", r.floor_p50_ms}};
  if (r.floor_p50_ms > 0 && r.samples.count() > 0) {
    j["p50_over_floor"] = r.samples.QuantileMs(0.5) / r.floor_p50_ms;
  }
  return j;
}

std::string Json(const std::vector<Row>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& r : rows) out.push_back(RowJson(r));
  return out.dump(2) + "\n";
}

}  // namespace backline::bench
