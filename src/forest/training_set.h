// The rows a forest is grown on, binned and compact: a byte per numeric
// feature (its quantile bin) and one code per one-hot block (which of the
// block's features is 1), never a dense matrix of one-hot columns. A node's
// histogram of a block's codes gives the class counts of every one-hot
// feature of the block at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "forest/binning.h"

namespace loadcast::forest {

// Features [first, first + width) of the model are the one-hot columns of
// one categorical column: at most one of them is 1 in any row.
struct OneHotBlock {
  int first = 0;
  int width = 0;
};

// One stored column of a row.
struct StoredColumn {
  int first_feature = 0;  // the feature it holds, or the block's first one
  int width = 1;          // features it holds: 1, or the block's width
  bool one_hot = false;
  uint32_t entries = 0;  // distinct stored values: bins, or width + 1 codes
  uint32_t offset = 0;   // byte offset in a row
  bool wide = false;     // two bytes (a block of more than 255 features)
};

class TrainingSet {
 public:
  // Rows of `splits.size()` features, the one-hot blocks among them
  // ascending and disjoint. Throws Failure(kData) for a block too wide to
  // code in two bytes.
  TrainingSet(std::vector<FeatureSplits> splits, std::span<const OneHotBlock> blocks);

  int num_features() const { return static_cast<int>(splits_.size()); }
  const std::vector<FeatureSplits>& splits() const { return splits_; }
  const std::vector<StoredColumn>& columns() const { return columns_; }
  // The stored column of a feature, and its code there (-1: a numeric column).
  int column_of(int feature) const { return column_of_[static_cast<size_t>(feature)]; }
  int code_of(int feature) const { return code_of_[static_cast<size_t>(feature)]; }
  // The values of the numeric features, in feature order, for add().
  int num_numeric() const { return static_cast<int>(numeric_features_.size()); }
  int num_blocks() const { return static_cast<int>(columns_.size()) - num_numeric(); }

  size_t rows() const { return labels_.size(); }
  size_t row_bytes() const { return stride_; }
  void reserve(size_t rows);
  // A row from its numeric feature values (num_numeric(), feature order) and
  // its code in each block (0 .. width; width: none of the block is 1).
  void add(std::span<const float> numeric, std::span<const uint16_t> codes, uint8_t label,
           uint64_t key);
  // The same into row r of a set resized to hold it (rows may be set from
  // several threads, each its own).
  void resize(size_t rows);
  void set(size_t r, std::span<const float> numeric, std::span<const uint16_t> codes, uint8_t label,
           uint64_t key);
  // A row of a dense matrix with no blocks.
  void add_dense(const float* values, uint8_t label, uint64_t key);

  std::span<const uint8_t> labels() const { return labels_; }
  std::span<const uint64_t> keys() const { return keys_; }
  const uint8_t* row(size_t r) const { return data_.data() + r * stride_; }
  // One byte past the last row is readable (zero), so a two-byte read of
  // any stored column stays inside the data.
  uint32_t value(size_t r, const StoredColumn& column) const {
    const uint8_t* p = row(r) + column.offset;
    return column.wide ? static_cast<uint32_t>(p[0] | (p[1] << 8)) : p[0];
  }
  // The bin of `feature` in row r: for a one-hot feature 1 when it is the
  // row's code and the feature has a threshold, else 0.
  int bin(size_t r, int feature) const;

 private:
  std::vector<FeatureSplits> splits_;
  std::vector<StoredColumn> columns_;  // numeric ones first, in feature order
  std::vector<int> column_of_;
  std::vector<int> code_of_;
  std::vector<int> numeric_features_;
  size_t stride_ = 0;
  std::vector<uint8_t> data_;  // rows x stride, and one zero byte
  std::vector<uint8_t> labels_;
  std::vector<uint64_t> keys_;
};

}  // namespace loadcast::forest
