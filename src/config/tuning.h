// The configuration's `tuning` object: how `loadcast tune` cross-validates
// by time and which parameters it searches (docs/tuning.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/params.h"

namespace loadcast {

enum class SearchKind { kGrid, kRandom };

// One searched parameter: a configuration field by its dotted name
// ("forest.maxDepth", "boosting.learningRate", algorithm) and the values
// it takes: a list, or for random search a range of numbers.
struct SearchAxis {
  std::string name;
  nlohmann::json values = nlohmann::json::array();  // empty for a range
  double min = 0;
  double max = 0;
  bool log = false;       // a range drawn uniformly in log space
  bool integral = false;  // a range of an integer field: whole numbers are drawn
  bool is_range() const { return values.empty(); }
};

// What the metric of a fold is.
enum class TuningMetric { kAccuracy, kF1 };

struct TuningSpec {
  TuningSpec();  // the declared defaults
  SearchKind search;
  int trials;     // random search: how many draws
  int folds;      // validation windows before testSplitStart, each foldDays long
  int fold_days;  // whole days of each window
  TuningMetric metric;
  uint64_t seed;                  // of the random draws
  std::vector<SearchAxis> space;  // in name order
};

// The metric's name as the run history records it ("accuracy", "f1").
const char* metric_name(TuningMetric metric);

const ParamSet<TuningSpec>& tuning_params();

}  // namespace loadcast
