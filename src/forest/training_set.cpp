#include "forest/training_set.h"

#include <string>

#include "common/error.h"

namespace loadcast::forest {

TrainingSet::TrainingSet(std::vector<FeatureSplits> splits, std::span<const OneHotBlock> blocks)
    : splits_(std::move(splits)) {
  const int features = num_features();
  column_of_.assign(static_cast<size_t>(features), -1);
  code_of_.assign(static_cast<size_t>(features), -1);
  for (const OneHotBlock& block : blocks) {
    if (block.width < 1 || block.first < 0 || block.first + block.width > features)
      fail_internal("training set: a one-hot block outside the features");
    if (block.width >= 0xFFFF)
      fail_data("a categorical column with " + std::to_string(block.width + 1) +
                " categories: at most 65535 are supported");
    for (int j = 0; j < block.width; ++j)
      code_of_[static_cast<size_t>(block.first) + static_cast<size_t>(j)] = j;
  }
  uint32_t offset = 0;
  for (int f = 0; f < features; ++f) {
    if (code_of_[static_cast<size_t>(f)] >= 0) continue;
    column_of_[static_cast<size_t>(f)] = static_cast<int>(columns_.size());
    numeric_features_.push_back(f);
    columns_.push_back(
        {f, 1, false, static_cast<uint32_t>(splits_[f].num_bins()), offset++, false});
  }
  for (const OneHotBlock& block : blocks) {
    const auto entries = static_cast<uint32_t>(block.width + 1);
    const bool wide = entries > 256;
    for (int j = 0; j < block.width; ++j)
      column_of_[static_cast<size_t>(block.first) + static_cast<size_t>(j)] =
          static_cast<int>(columns_.size());
    columns_.push_back({block.first, block.width, true, entries, offset, wide});
    offset += wide ? 2 : 1;
  }
  stride_ = offset;
  data_.push_back(0);
}

void TrainingSet::reserve(size_t rows) {
  data_.reserve(rows * stride_ + 1);
  labels_.reserve(rows);
  keys_.reserve(rows);
}

void TrainingSet::add(std::span<const float> numeric, std::span<const uint16_t> codes,
                      uint8_t label, uint64_t key) {
  resize(rows() + 1);
  set(rows() - 1, numeric, codes, label, key);
}

void TrainingSet::resize(size_t rows) {
  data_.resize(rows * stride_ + 1, 0);  // the last byte stays the zero padding
  labels_.resize(rows);
  keys_.resize(rows);
}

void TrainingSet::set(size_t r, std::span<const float> numeric, std::span<const uint16_t> codes,
                      uint8_t label, uint64_t key) {
  const size_t numerics = numeric_features_.size();
  if (numeric.size() != numerics || codes.size() != columns_.size() - numerics || r >= rows())
    fail_internal("training set: a row of another shape");
  uint8_t* out = data_.data() + r * stride_;
  for (size_t i = 0; i < numerics; ++i)
    out[i] = static_cast<uint8_t>(splits_[numeric_features_[i]].bin_of(numeric[i]));
  for (size_t b = 0; b < codes.size(); ++b) {
    const StoredColumn& column = columns_[numerics + b];
    const uint16_t code = std::min<uint16_t>(codes[b], static_cast<uint16_t>(column.width));
    out[column.offset] = static_cast<uint8_t>(code);
    if (column.wide) out[column.offset + 1] = static_cast<uint8_t>(code >> 8);
  }
  labels_[r] = label;
  keys_[r] = key;
}

void TrainingSet::add_dense(const float* values, uint8_t label, uint64_t key) {
  if (columns_.size() != numeric_features_.size())
    fail_internal("training set: a dense row for a layout with one-hot blocks");
  add({values, static_cast<size_t>(num_features())}, {}, label, key);
}

int TrainingSet::bin(size_t r, int feature) const {
  const StoredColumn& column = columns_[static_cast<size_t>(column_of(feature))];
  const uint32_t v = value(r, column);
  if (!column.one_hot) return static_cast<int>(v);
  return v == static_cast<uint32_t>(code_of(feature)) && splits_[feature].num_bins() > 1 ? 1 : 0;
}

}  // namespace loadcast::forest
