// Feature binning for histogram training: per-feature thresholds from
// quantiles of a sample of the training rows (Spark's
// findSplitsForContinuousFeature). The rows themselves are stored binned in
// a TrainingSet (training_set.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dist/communicator.h"

namespace loadcast::forest {

// A dense row-major matrix of feature values, not owned.
struct MatrixView {
  std::span<const float> values;
  size_t rows = 0;
  size_t cols = 0;
  const float* row(size_t r) const { return values.data() + r * cols; }
};

// Thresholds of one feature, ascending. A value v falls into bin
// b = #{thresholds < v}, so "bin <= t" is "v <= thresholds[t]".
struct FeatureSplits {
  std::vector<float> thresholds;
  int num_bins() const { return static_cast<int>(thresholds.size()) + 1; }
  int bin_of(float value) const;
};

// Which rows place the thresholds: every row when there are at most
// `sample_cap` over all ranks, else the rows whose key hash falls in the
// lowest sample_cap / rows of the hash range (about sample_cap rows), so the
// sample depends neither on row order nor on which rank holds a row.
class QuantileSample {
 public:
  QuantileSample(int64_t total_rows, size_t sample_cap);
  bool takes(uint64_t row_key) const;

 private:
  bool all_rows_;
  uint64_t cutoff_;
};

// A feature's sampled values: ascending distinct values with their counts.
struct ValueCounts {
  std::vector<float> values;
  std::vector<int64_t> counts;

  // `sorted` ascending; -0 and +0 are one value.
  void add_sorted(std::span<const float> sorted);
  // A feature with the values 0 and 1 only (one-hot, flag): their counts.
  void add_binary(int64_t zeros, int64_t ones);
  // Merges another part; equal values add their counts.
  void merge(const ValueCounts& other);
};

// Thresholds for every feature from this rank's sampled values, at most
// max_bins - 1 each; a feature with two distinct values gets a single
// threshold at their midpoint. Collective over `comm`: each feature's values
// go to one rank, which places its thresholds, and every rank gets them all.
std::vector<FeatureSplits> find_splits(std::vector<ValueCounts> local, int max_bins, int threads,
                                       dist::Communicator& comm);

// The same from a dense matrix, sampling its rows by key.
std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads);
std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads,
                                       dist::Communicator& comm);

}  // namespace loadcast::forest
