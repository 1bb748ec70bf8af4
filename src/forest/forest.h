// The random forest classifier of docs/outputs.md with Spark ML semantics: binned
// features, trees grown level by level from per-node class histograms,
// Poisson bootstrap from counter-based hashes, random feature subsets per
// node; batch prediction; a versioned JSON serialization. Under MPI each rank
// holds its own rows, the histograms are summed across ranks, and every rank
// grows the same trees.
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
  std::vector<double> counts;         // nodes x classes, weighted class counts
  std::vector<double> probabilities;  // counts normalised per node

  int depth() const;
};

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
  // Normalised total gain per feature (Spark's featureImportances).
  std::vector<double> feature_importances() const;

  nlohmann::json to_json() const;
  // Throws Failure(kData) on a malformed forest or another format version.
  static Forest from_json(const nlohmann::json& json);

 private:
  void predict_row(const float* row, double* out) const;

  int num_classes_ = 0;
  int num_features_ = 0;
  TrainOptions options_;
  std::vector<Tree> trees_;
};

// Features tried per node for a strategy (all, sqrt, log2, onethird).
// Throws Failure(kUsage) for an unknown strategy.
int features_per_node(std::string_view strategy, int num_features);

}  // namespace loadcast::forest
