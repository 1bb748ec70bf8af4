// The tree ensembles of docs/outputs.md. A random forest with Spark ML
// semantics: binned features, trees grown level by level from per-node
// class histograms, Poisson bootstrap from counter-based hashes, random
// feature subsets per node. Gradient-boosted trees (boosting.cpp) on the
// same binned rows: a multi-class softmax, one tree per class and round.
// Both: batch prediction and a versioned JSON serialization. Under MPI each
// rank holds its own rows, the histograms are summed across ranks, and every
// rank grows the same trees.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "forest/binning.h"
#include "forest/params.h"
#include "forest/training_set.h"

namespace loadcast::forest {

struct TrainOptions {
  ForestParams params;               // numTrees, maxDepth, seed, maxBins, strategy, rate
  std::string impurity = "gini";     // see criterion.h
  int threads = 1;                   // >= 1; results do not depend on it
  size_t quantile_sample = 200'000;  // rows used to place bin thresholds
};

// What growing the trees exchanged between ranks (with one process, the
// same calls, each the identity).
struct TrainStats {
  int64_t allreduce_calls = 0;
  int64_t allreduce_bytes = 0;   // per rank: histograms and root counts
  double allreduce_seconds = 0;  // waiting in the allreduces, this rank
};

// The boosted trees' options (the configuration's `boosting`).
struct BoostOptions {
  BoostParams params;
  int threads = 1;  // >= 1; results do not depend on it
};

// What boosting did: the rounds it grew and, with early stopping, the
// validation tail's log loss after each and the round kept.
struct BoostHistory {
  int rounds = 0;      // grown
  int best_round = 0;  // 1-based: rounds kept
  std::vector<double> validation_loss;
  int64_t validation_rows = 0;  // on every rank
};

// A sum-allreduce of histogram counters, counted into `stats`.
void counted_allreduce(dist::Communicator& comm, std::span<int64_t> values, TrainStats& stats);

// One tree in flat arrays; node 0 is the root.
struct Tree {
  struct Node {
    int32_t feature = -1;  // -1: a leaf
    float threshold = 0;   // rows with value <= threshold go left
    int32_t left = -1;
    int32_t right = -1;
    double gain = 0;
  };
  std::vector<Node> nodes;
  // nodes x classes. A forest's trees: weighted class counts; a boosted
  // tree: the node's hessian sum (its cover) in its class's place.
  std::vector<double> counts;
  // nodes x classes: what a row reaching the node adds to the ensemble's
  // sums. A forest's trees: the counts normalised; a boosted tree: the
  // node's value in its class's place, 0 in the others.
  std::vector<double> leaf_values;
  int32_t output_class = -1;  // a boosted tree: the class it scores

  int depth() const;
};

// The end of every scoring path: rows x classes sums of the leaf values of
// `trees` trees become their mean (a forest) or the softmax of base score
// plus sums (boosted trees), in place.
void finish_sums(Algorithm algorithm, size_t trees, int num_classes,
                 std::span<const double> base_score, double* sums, size_t rows);

class Forest {
 public:
  static constexpr int kFormatVersion = 1;

  // Trains on the binned rows of `set` (each rank its own, some may have
  // none): every rank returns the forest one process would grow from all the
  // rows, whatever their spread over the ranks. Collective. The set's splits
  // must be the same on every rank (find_splits gives them).
  static Forest train(const TrainingSet& set, int num_classes, const TrainOptions& options,
                      dist::Communicator& comm, TrainStats* stats = nullptr);
  // Trains on x (row-major) with labels in [0, num_classes). row_keys give
  // each row's identity for the bootstrap (see sampling.h row_key).
  // REQUIRES: labels.size() == row_keys.size() == x.rows > 0.
  static Forest train(const MatrixView& x, std::span<const uint8_t> labels,
                      std::span<const uint64_t> row_keys, int num_classes,
                      const TrainOptions& options);
  // The same on the ranks of `comm`, each passing its own rows. Collective.
  static Forest train(const MatrixView& x, std::span<const uint8_t> labels,
                      std::span<const uint64_t> row_keys, int num_classes,
                      const TrainOptions& options, dist::Communicator& comm,
                      TrainStats* stats = nullptr);
  // Gradient-boosted trees on the binned rows of `set` (boosting.cpp), with
  // the same guarantees as train: every rank returns the ensemble one
  // process would grow from all the rows, for any thread count. With
  // early stopping, `validation` holds the rows whose log loss decides how
  // many rounds are kept (each rank its own; splits as `set`'s).
  static Forest boost(const TrainingSet& set, const TrainingSet* validation, int num_classes,
                      const BoostOptions& options, dist::Communicator& comm,
                      TrainStats* stats = nullptr, BoostHistory* history = nullptr);

  Algorithm algorithm() const { return algorithm_; }
  // A boosted ensemble's score of each class before any tree.
  const std::vector<double>& base_score() const { return base_score_; }
  // Turns rows x classes sums of the trees' leaf values, added in tree
  // order, into probabilities (finish_sums below).
  void finish(double* sums, size_t rows) const {
    finish_sums(algorithm_, trees_.size(), num_classes_, base_score_, sums, rows);
  }

  int num_classes() const { return num_classes_; }
  int num_features() const { return num_features_; }
  const std::vector<Tree>& trees() const { return trees_; }

  // Mean of the trees' leaf distributions: rows x classes.
  std::vector<double> predict_proba(const MatrixView& x, int threads = 1) const;
  // The same for the binned rows [begin, end) of a set whose splits the
  // forest was grown on (the same answers as for their values).
  std::vector<double> predict_proba(const TrainingSet& rows, size_t begin, size_t end,
                                    int threads = 1) const;
  // Argmax of predict_proba per row; ties go to the lower class.
  static std::vector<int> argmax(std::span<const double> proba, int num_classes);
  // Normalised total gain per feature: Spark's featureImportances for a
  // forest, XGBoost's total_gain for boosted trees.
  std::vector<double> feature_importances() const;

  nlohmann::json to_json() const;
  // Throws Failure(kData) on a malformed forest or another format version.
  static Forest from_json(const nlohmann::json& json);

 private:
  void predict_row(const float* row, double* out) const;

  nlohmann::json boosted_json() const;
  static Forest boosted_from_json(const nlohmann::json& json);

  Algorithm algorithm_ = Algorithm::kRandomForest;
  int num_classes_ = 0;
  int num_features_ = 0;
  TrainOptions options_;  // a forest's
  BoostParams boost_;     // boosted trees'
  std::vector<double> base_score_;
  std::vector<Tree> trees_;
};

// Features tried per node for a strategy (all, sqrt, log2, onethird).
// Throws Failure(kUsage) for an unknown strategy.
int features_per_node(std::string_view strategy, int num_features);

}  // namespace loadcast::forest
