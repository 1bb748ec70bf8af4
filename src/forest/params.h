// The tree ensembles' hyperparameters (the configuration's `forest` and
// `boosting` objects and its `algorithm`), declared once with their
// defaults, bounds and help.
#pragma once

#include <cstdint>
#include <string>

#include "common/params.h"

namespace loadcast::forest {

// Which ensemble `train` grows: a random forest (averaged class
// distributions) or gradient-boosted trees (softmax of summed scores).
enum class Algorithm { kRandomForest, kGradientBoostedTrees };

// The field that names it (the configuration, a forest file, info.json),
// and the names it takes.
inline constexpr const char* kAlgorithmField = "algorithm";
inline constexpr const char* kRandomForestName = "randomForest";
inline constexpr const char* kGradientBoostedTreesName = "gradientBoostedTrees";
const char* algorithm_name(Algorithm algorithm);

struct ForestParams {
  ForestParams();  // the declared defaults
  int num_trees;
  int max_depth;  // the root is at depth 0
  uint64_t seed;
  int max_bins;
  std::string feature_subset_strategy;  // all, sqrt, log2, onethird
  double subsampling_rate;              // (0, 1]
};

// Gradient boosting with a multi-class softmax loss: each round adds one
// tree per class, grown depth-wise on the binned rows from second-order
// gradient histograms (as XGBoost's `hist` method).
struct BoostParams {
  BoostParams();  // the declared defaults
  int num_rounds;
  int max_depth;
  double learning_rate;
  double min_child_weight;  // least hessian sum in a child
  double l2_regularization;
  double subsample;           // share of rows a round's trees see
  double colsample;           // share of features a tree may split on
  int early_stopping_rounds;  // 0: off
  int validation_days;        // the training tail early stopping watches
  uint64_t seed;
  int max_bins;
};

// Names of fields that other outputs carry too (a bundle's info.json).
inline constexpr const char* kNumTreesField = "numTrees";

// The declaration of every field above.
const ParamSet<ForestParams>& forest_params();
const ParamSet<BoostParams>& boost_params();

}  // namespace loadcast::forest
