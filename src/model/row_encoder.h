// Encoder::transform for scoring, without strings: the categorical values
// are looked up by the integer behind them (weekday, calendar number, flag)
// in tables built once from the encoder's categories, ServerIP in a copy of
// its index. Writes the encoder's float feature vectors bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "encode/encoder.h"
#include "features/feature_row.h"

namespace loadcast {

class RowEncoder {
 public:
  RowEncoder() = default;
  explicit RowEncoder(const Encoder& encoder);

  // False when the encoder's feature layout is not the one this class knows
  // (its feature names differ); the caller then uses Encoder::transform.
  bool usable() const { return usable_; }
  int num_features() const { return width_; }

  // Writes rows.size() x num_features() values, row-major, as
  // Encoder::transform(row, std::span<float>) does for each row.
  // REQUIRES: usable(); out holds rows.size() * num_features() floats.
  void transform(std::span<const FeatureRow> rows, float* out) const;

 private:
  struct Column {
    int column = 0;        // in the schema's categorical order
    int feature = 0;       // the schema's column
    bool one_hot = false;  // else one feature holding the category index
    int offset = 0;        // the column's first feature
    int width = 0;         // one-hot features: categories - 1
    int unseen = 0;        // the index of a value never seen: categories.size()
    bool by_code = false;  // table lookup by the column's number; else `by_text`
    int64_t first_code = 0;
    std::vector<int32_t> table;                    // category index of code first_code + i
    std::unordered_map<std::string, int> by_text;  // ServerIP, or codes spanning too wide a range
  };

  int index_of(const Column& column, const FeatureRow& row) const;

  FeatureSchema schema_;
  bool usable_ = false;
  int width_ = 0;
  std::vector<Column> columns_;  // only-indexed ones first, then one-hot, as the layout
  int scaled_offset_ = 0;
  std::vector<double> scaler_std_;
};

}  // namespace loadcast
