// Command-line arguments of the `backline` CLI: positional words and `--name value`,
// `--name=value` or boolean `--name` options, checked against what each command accepts.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace backline::cli {

class Args {
 public:
  // `value_flags` take a value; `bool_flags` do not. Anything else starting with `--` is an
  // error naming the unknown option. A repeated value flag keeps every value.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& words,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& bool_flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace backline::cli
