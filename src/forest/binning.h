// Feature binning for histogram training: per-feature thresholds from
// quantiles of the training data (Spark's findSplitsForContinuousFeature),
// and the uint8 bin matrix the trees are grown on.
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
};

// Candidate thresholds for every column, at most max_bins - 1 each, from
// quantiles of a sample: every row when there are at most `sample_cap`,
// else the rows whose key hash falls in the lowest sample_cap / rows of the
// hash range (about sample_cap rows), so the sample does not depend on row
// order or on which rank holds a row. A feature with two distinct values
// (binary, one-hot) gets a single threshold at their midpoint.
std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads);
// The same over the rows of every rank of `comm` (collective): each column's
// sampled values go to one rank, which places its thresholds, and every rank
// gets them all.
std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads,
                                       dist::Communicator& comm);

// The bins of every row, row-major and packed: features with more than two
// bins take a byte, binary ones (one-hot columns) a bit, so a row of a wide
// one-hot table stays within a cache line or two and a node's histogram
// reads few lines per row.
struct BinnedMatrix {
  size_t rows = 0;
  size_t stride = 0;                  // bytes per row
  std::vector<uint8_t> data;          // rows x stride
  std::vector<uint32_t> byte_offset;  // per feature
  std::vector<uint8_t> shift;         // per feature: bit position (0 for bytes)
  std::vector<uint8_t> mask;          // per feature: 0xFF or 1

  uint8_t bin(size_t row, size_t feature) const {
    return (data[row * stride + byte_offset[feature]] >> shift[feature]) & mask[feature];
  }
};

BinnedMatrix bin_matrix(const MatrixView& x, std::span<const FeatureSplits> splits, int threads);

}  // namespace loadcast::forest
