#include "model/row_encoder.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace loadcast {
namespace {

// Widest range of codes kept in a table.
constexpr int64_t kMaxCodeSpan = 1 << 16;

}  // namespace

RowEncoder::RowEncoder(const Encoder& encoder) : schema_(encoder.schema()) {
  const auto& indexes = encoder.columns();
  if (indexes.size() != schema_.categorical().size()) return;
  for (size_t c = 0; c < indexes.size(); ++c)
    if (indexes[c].column != schema_.column(schema_.categorical()[c]).name) return;

  // The layout of Encoder::build_layout, checked against its feature names.
  std::vector<std::string> names{schema_.of(ColumnRole::kTrend).name};
  for (const bool one_hot : {false, true}) {
    for (size_t c = 0; c < indexes.size(); ++c) {
      const CategoryIndex& index = indexes[c];
      if (index.only_indexed == one_hot) continue;
      Column column;
      column.column = static_cast<int>(c);
      column.feature = schema_.categorical()[c];
      column.one_hot = one_hot;
      column.offset = static_cast<int>(names.size());
      column.unseen = static_cast<int>(index.categories.size());
      if (one_hot) {
        column.width = static_cast<int>(index.categories.size()) - 1;
        for (int i = 0; i < column.width; ++i)
          names.push_back(index.column + "=" + index.categories[i]);
      } else {
        names.push_back(index.column + "_index");
      }
      columns_.push_back(std::move(column));
    }
  }
  scaled_offset_ = static_cast<int>(names.size());
  for (int s = 0; s < schema_.num_scaled(); ++s) names.push_back(schema_.scaled_name(s));
  if (names != encoder.feature_names() ||
      encoder.scaler_std().size() != static_cast<size_t>(schema_.num_scaled())) {
    columns_.clear();
    return;
  }
  scaler_std_ = encoder.scaler_std();
  width_ = static_cast<int>(names.size());

  for (Column& column : columns_) {
    const CategoryIndex& index = indexes[column.column];
    // The codes whose text can be a category: the weekdays, the two flag
    // values, or the range of the categories that read as integers (no other
    // integer's text is a category). ServerIP is looked up by its text.
    const FeatureColumn& feature = schema_.column(column.feature);
    const ColumnType type = feature.type;
    if (type == ColumnType::kText) {
      column.by_text = index.lookup;
      continue;
    }
    int64_t lo = 0;
    int64_t hi = -1;
    if (type == ColumnType::kFlag) {
      hi = 1;
    } else if (type == ColumnType::kWeekday) {
      hi = 6;
    } else {
      lo = std::numeric_limits<int>::max();
      hi = std::numeric_limits<int>::min();
      for (const std::string& category : index.categories) {
        int v = 0;
        const char* end = category.data() + category.size();
        const auto [stop, ec] = std::from_chars(category.data(), end, v);
        if (ec != std::errc() || stop != end) continue;
        lo = std::min<int64_t>(lo, v);
        hi = std::max<int64_t>(hi, v);
      }
    }
    if (hi - lo >= kMaxCodeSpan) {
      column.by_text = index.lookup;
      continue;
    }
    column.by_code = true;
    column.first_code = lo;
    FeatureRow probe;
    for (int64_t code = lo; code <= hi; ++code) {
      FeatureSchema::set_number(probe, feature, static_cast<double>(code));
      column.table.push_back(index.index_of(schema_.categorical_value(probe, column.column)));
    }
  }
  usable_ = true;
}

int RowEncoder::index_of(const Column& column, const FeatureRow& row) const {
  if (column.by_code) {
    const auto code =
        static_cast<int64_t>(FeatureSchema::number(row, schema_.column(column.feature)));
    const int64_t at = code - column.first_code;
    if (at < 0 || at >= static_cast<int64_t>(column.table.size())) return column.unseen;
    return column.table[static_cast<size_t>(at)];
  }
  const auto it = schema_.column(column.feature).type == ColumnType::kText
                      ? column.by_text.find(row.server_ip)
                      : column.by_text.find(schema_.categorical_value(row, column.column));
  return it == column.by_text.end() ? column.unseen : it->second;
}

void RowEncoder::transform(std::span<const FeatureRow> rows, float* out) const {
  const size_t width = static_cast<size_t>(width_);
  for (const FeatureRow& row : rows) {
    std::fill(out, out + width, 0.0f);
    out[0] = static_cast<float>(row.linear_trend);
    for (const Column& column : columns_) {
      const int i = index_of(column, row);
      if (!column.one_hot) {
        out[column.offset] = static_cast<float>(i);
      } else if (i < column.width) {  // the last category and unseen ones are all zeros
        out[column.offset + i] = 1.0f;
      }
    }
    for (int s = 0; s < schema_.num_scaled(); ++s) {
      const double sd = scaler_std_[s];
      out[scaled_offset_ + s] =
          sd == 0 ? 0.0f : static_cast<float>(schema_.scaled_value(row, s) / sd);
    }
    out += width;
  }
}

}  // namespace loadcast
