// The random forest's hyperparameters (the configuration's `forest` object).
#pragma once

#include <cstdint>
#include <string>

namespace loadcast::forest {

struct ForestParams {
  int num_trees = 100;  // 1 .. 10000
  int max_depth = 8;    // 1 .. 30
  uint64_t seed = 42;
  int max_bins = 32;                             // 2 .. 256
  std::string feature_subset_strategy = "sqrt";  // all, sqrt, log2, onethird
  double subsampling_rate = 1.0;                 // (0, 1]
};

}  // namespace loadcast::forest
