// The random forest's hyperparameters (the configuration's `forest`
// object), declared once with their defaults, bounds and help.
#pragma once

#include <cstdint>
#include <string>

#include "common/params.h"

namespace loadcast::forest {

struct ForestParams {
  ForestParams();  // the declared defaults
  int num_trees;
  int max_depth;  // the root is at depth 0
  uint64_t seed;
  int max_bins;
  std::string feature_subset_strategy;  // all, sqrt, log2, onethird
  double subsampling_rate;              // (0, 1]
};

// Names of fields that other outputs carry too (a bundle's info.json).
inline constexpr const char* kNumTreesField = "numTrees";

// The declaration of every field above.
const ParamSet<ForestParams>& forest_params();

}  // namespace loadcast::forest
