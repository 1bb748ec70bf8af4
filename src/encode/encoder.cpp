#include "encode/encoder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "common/exact_sum.h"
#include "common/json_number.h"
#include "common/thread_pool.h"
#include "dist/wire.h"

namespace loadcast {

int CategoryIndex::index_of(const std::string& value) const {
  auto it = lookup.find(value);
  return it == lookup.end() ? static_cast<int>(categories.size()) : it->second;
}

namespace {

void rebuild_lookup(CategoryIndex& index) {
  index.lookup.clear();
  for (size_t i = 0; i < index.categories.size(); ++i) {
    index.lookup.emplace(index.categories[i], static_cast<int>(i));
  }
}

}  // namespace

void Encoder::fit(std::span<const FeatureRow> rows, const FeatureSchema& schema) {
  auto local = dist::make_local_communicator();
  fit(rows, *local, schema);
}

void Encoder::fit(std::span<const FeatureRow> rows, dist::Communicator& comm,
                  const FeatureSchema& schema) {
  EncoderFit fit(schema);
  for (const auto& row : rows) fit.count(row);
  fit.finish_counts(comm);
  for (const auto& row : rows) fit.deviate(row);
  *this = fit.finish(comm);
}

EncoderFit::EncoderFit(const FeatureSchema& schema)
    : categories_(schema.categorical().size()), sums_(static_cast<size_t>(schema.num_scaled())) {
  encoder_.schema_ = schema;
}

void EncoderFit::count(const FeatureRow& row) {
  const FeatureSchema& schema = encoder_.schema_;
  ++rows_;
  for (size_t c = 0; c < categories_.size(); ++c)
    ++categories_[c][schema.categorical_value(row, static_cast<int>(c))];
  for (size_t s = 0; s < sums_.size(); ++s)
    sums_[s].add(schema.scaled_value(row, static_cast<int>(s)));
}

// The exact sums of every rank, rounded once.
std::vector<double> EncoderFit::global_values(dist::Communicator& comm) const {
  std::vector<int64_t> limbs(sums_.size() * ExactSum::kLimbs);
  for (size_t s = 0; s < sums_.size(); ++s) {
    const auto l = sums_[s].limbs();
    std::copy(l.begin(), l.end(), limbs.begin() + static_cast<ptrdiff_t>(s * ExactSum::kLimbs));
  }
  comm.allreduce_sum(limbs);
  std::vector<double> out(sums_.size());
  for (size_t s = 0; s < sums_.size(); ++s) {
    out[s] = ExactSum::from_limbs(std::span(limbs).subspan(s * ExactSum::kLimbs, ExactSum::kLimbs))
                 .value();
  }
  return out;
}

void EncoderFit::finish_counts(dist::Communicator& comm) {
  Encoder& e = encoder_;
  const int num_categorical = static_cast<int>(categories_.size());
  std::array<int64_t, 1> total{rows_};
  comm.allreduce_sum(total);
  if (total[0] == 0) fail_data("cannot fit the encoder: no feature rows");
  e.rows_ = total[0];

  // Category counts: every rank's, summed (the categories are few).
  dist::ByteWriter mine;
  for (const auto& counts : categories_) {
    mine.put<uint32_t>(static_cast<uint32_t>(counts.size()));
    for (const auto& [value, count] : counts) mine.put(value).put(count);
  }
  std::vector<std::unordered_map<std::string, int64_t>> counts(
      static_cast<size_t>(num_categorical));
  for (const auto& bytes : comm.allgather(mine.take())) {
    dist::ByteReader in(bytes);
    for (int c = 0; c < num_categorical; ++c) {
      const auto n = in.get<uint32_t>();
      for (uint32_t i = 0; i < n; ++i) {
        std::string value = in.get_string();
        counts[c][value] += in.get<int64_t>();
      }
    }
  }
  e.columns_.assign(static_cast<size_t>(num_categorical), {});
  for (int c = 0; c < num_categorical; ++c) {
    std::vector<std::pair<std::string, int64_t>> sorted(counts[c].begin(), counts[c].end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    CategoryIndex& index = e.columns_[c];
    index.column = e.schema_.column(e.schema_.categorical()[static_cast<size_t>(c)]).name;
    for (auto& [value, count] : sorted) {
      index.categories.push_back(value);
      index.counts.push_back(count);
    }
    index.only_indexed = index.categories.size() < 2;
    rebuild_lookup(index);
  }

  categories_.clear();

  // Two passes (mean, then squared deviations) keep the std accurate; each
  // sum is exact, so neither row order nor rank count changes a bit.
  mean_ = global_values(comm);
  for (double& m : mean_) m /= static_cast<double>(e.rows_);
  for (ExactSum& sum : sums_) sum = ExactSum();
}

void EncoderFit::add_deviations(const FeatureRow& row, std::vector<ExactSum>& sums) const {
  for (size_t s = 0; s < sums.size(); ++s) {
    const double d = encoder_.schema_.scaled_value(row, static_cast<int>(s)) - mean_[s];
    sums[s].add(d * d);
  }
}

void EncoderFit::deviate(const FeatureRow& row) { add_deviations(row, sums_); }

void EncoderFit::deviate(std::span<const FeatureRow> rows, int threads,
                         const std::function<bool(const FeatureRow&)>& keep) {
  const size_t parts = static_cast<size_t>(std::max(1, threads));
  std::vector<std::vector<ExactSum>> partial(parts, std::vector<ExactSum>(sums_.size()));
  run_tasks(parts, threads, [&](size_t part, int) {
    const size_t begin = rows.size() * part / parts;
    const size_t end = rows.size() * (part + 1) / parts;
    for (size_t r = begin; r < end; ++r)
      if (!keep || keep(rows[r])) add_deviations(rows[r], partial[part]);
  });
  for (const auto& sums : partial) {
    for (size_t s = 0; s < sums_.size(); ++s) sums_[s].add(sums[s]);
  }
}

Encoder EncoderFit::finish(dist::Communicator& comm) {
  Encoder& e = encoder_;
  const std::vector<double> squares = global_values(comm);
  e.scaler_std_.assign(sums_.size(), 0.0);
  if (e.rows_ >= 2) {
    const double n = static_cast<double>(e.rows_);
    for (size_t s = 0; s < sums_.size(); ++s) e.scaler_std_[s] = std::sqrt(squares[s] / (n - 1));
  }
  e.build_layout();
  return std::move(e);
}

void Encoder::build_layout() {
  feature_names_.clear();
  blocks_.clear();
  one_hot_width_ = 0;
  feature_names_.push_back(schema_.of(ColumnRole::kTrend).name);
  for (const auto& index : columns_) {
    if (index.only_indexed) feature_names_.push_back(index.column + "_index");
  }
  for (const auto& index : columns_) {
    if (index.only_indexed) continue;
    const int width = static_cast<int>(index.categories.size()) - 1;
    blocks_.push_back({static_cast<int>(feature_names_.size()), width});
    one_hot_width_ += width;
    for (size_t i = 0; i + 1 < index.categories.size(); ++i) {
      feature_names_.push_back(index.column + "=" + index.categories[i]);
    }
  }
  for (int s = 0; s < schema_.num_scaled(); ++s) feature_names_.push_back(schema_.scaled_name(s));
}

std::vector<std::string> Encoder::column_only_indexed() const {
  std::vector<std::string> names;
  for (const auto& index : columns_) {
    if (index.only_indexed) names.push_back(index.column);
  }
  return names;
}

std::vector<std::string> Encoder::column_for_encode() const {
  std::vector<std::string> names;
  for (const auto& index : columns_) {
    if (!index.only_indexed) names.push_back(index.column);
  }
  return names;
}

template <typename Numeric, typename Code>
void Encoder::visit_parts(const FeatureRow& row, Numeric&& numeric, Code&& code) const {
  size_t pos = 0;
  numeric(pos++, row.linear_trend);
  const int num_categorical = static_cast<int>(columns_.size());
  size_t block = 0;
  for (int c = 0; c < num_categorical; ++c) {
    const auto& index = columns_[c];
    const int i = index.index_of(schema_.categorical_value(row, c));
    if (index.only_indexed) {
      numeric(pos++, static_cast<double>(i));
    } else {
      // The last category and unseen ones are none of the block's features.
      code(block++,
           static_cast<uint16_t>(std::min(static_cast<size_t>(i), index.categories.size() - 1)));
    }
  }
  for (int s = 0; s < schema_.num_scaled(); ++s) {
    const double sd = scaler_std_[s];
    numeric(pos++, sd == 0 ? 0.0 : schema_.scaled_value(row, s) / sd);
  }
}

void Encoder::transform_compact(const FeatureRow& row, std::span<float> numeric,
                                std::span<uint16_t> codes) const {
  if (numeric.size() != static_cast<size_t>(num_numeric()) || codes.size() != blocks_.size())
    fail_internal("encoder: compact output of another shape");
  visit_parts(
      row, [&](size_t i, double value) { numeric[i] = static_cast<float>(value); },
      [&](size_t b, uint16_t c) { codes[b] = c; });
}

template <typename T>
void Encoder::transform_impl(const FeatureRow& row, std::span<T> out) const {
  if (out.size() != feature_names_.size()) {
    fail_internal("encoder output has " + std::to_string(out.size()) + " slots, expected " +
                  std::to_string(feature_names_.size()));
  }
  std::fill(out.begin(), out.end(), T{0});
  // The numeric features come first (trend, indexed) and last (scaled), the
  // one-hot blocks between.
  const size_t leading = 1 + (columns_.size() - blocks_.size());
  visit_parts(
      row,
      [&](size_t i, double value) {
        out[i < leading ? i : i + static_cast<size_t>(one_hot_width_)] = static_cast<T>(value);
      },
      [&](size_t b, uint16_t c) {
        if (c < blocks_[b].width) out[static_cast<size_t>(blocks_[b].first) + c] = T{1};
      });
}

void Encoder::transform(const FeatureRow& row, std::span<double> out) const {
  transform_impl(row, out);
}

void Encoder::transform(const FeatureRow& row, std::span<float> out) const {
  transform_impl(row, out);
}

std::vector<float> Encoder::transform_all(std::span<const FeatureRow> rows, int threads) const {
  const size_t width = feature_names_.size();
  std::vector<float> matrix(rows.size() * width);
  parallel_for(rows.size(), threads, 4096, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r)
      transform(rows[r], std::span<float>(matrix.data() + r * width, width));
  });
  return matrix;
}

nlohmann::json Encoder::to_json() const {
  nlohmann::json json;
  json["formatVersion"] = kFormatVersion;
  json["categoricalColumns"] = nlohmann::json::array();
  for (const auto& index : columns_) {
    json["categoricalColumns"].push_back(index.column);
    json["categories"][index.column] = index.categories;
    json["categoryCounts"][index.column] = index.counts;
  }
  json["columnOnlyIndexed"] = column_only_indexed();
  json["columnForEncode"] = column_for_encode();
  json["scaledColumns"] = nlohmann::json::array();
  for (int s = 0; s < schema_.num_scaled(); ++s) {
    json["scaledColumns"].push_back(schema_.scaled_name(s));
    json["scalerStd"][schema_.scaled_name(s)] = scaler_std_[s];
  }
  json["featureNames"] = feature_names_;
  json["numFeatures"] = num_features();
  json["rows"] = rows_;
  return json;
}

Encoder Encoder::from_json(const nlohmann::json& json) {
  Encoder encoder;
  try {
    const int version = whole_number<int>(json.at("formatVersion"));
    if (version != kFormatVersion) {
      fail_data("encoder format version " + std::to_string(version) +
                " is not supported (expected " + std::to_string(kFormatVersion) + ")");
    }
    // The lags of the schema follow from the scaled columns; the
    // categorical columns must be the schema's.
    const auto schema =
        FeatureSchema::from_scaled_names(json.at("scaledColumns").get<std::vector<std::string>>());
    if (!schema) fail_data("bad encoder: scaledColumns are not a feature schema's lags and means");
    encoder.schema_ = *schema;
    std::vector<std::string> categorical;
    for (const int c : schema->categorical()) categorical.push_back(schema->column(c).name);
    if (json.at("categoricalColumns").get<std::vector<std::string>>() != categorical)
      fail_data("bad encoder: categoricalColumns differ from the feature schema's");
    for (const std::string& column : categorical) {
      CategoryIndex index;
      index.column = column;
      index.categories = json.at("categories").at(index.column).get<std::vector<std::string>>();
      index.counts = whole_numbers<int64_t>(json.at("categoryCounts").at(index.column));
      index.only_indexed = index.categories.size() < 2;
      rebuild_lookup(index);
      encoder.columns_.push_back(std::move(index));
    }
    for (int s = 0; s < schema->num_scaled(); ++s)
      encoder.scaler_std_.push_back(json.at("scalerStd").at(schema->scaled_name(s)).get<double>());
    encoder.rows_ = whole_number<int64_t>(json.at("rows"));
  } catch (const nlohmann::json::exception& e) {
    fail_data(std::string("bad encoder: ") + e.what());
  }
  encoder.build_layout();
  if (json.contains("featureNames") &&
      json["featureNames"].get<std::vector<std::string>>() != encoder.feature_names_) {
    fail_data("bad encoder: featureNames do not match its categories");
  }
  return encoder;
}

}  // namespace loadcast
