#include "encode/encoder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "common/exact_sum.h"
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
  schema_ = schema;
  const int num_categorical = static_cast<int>(schema_.categorical().size());
  const int num_scaled = schema_.num_scaled();
  std::array<int64_t, 1> total{static_cast<int64_t>(rows.size())};
  comm.allreduce_sum(total);
  if (total[0] == 0) fail_data("cannot fit the encoder: no feature rows");
  rows_ = total[0];

  // Category counts: every rank's, summed (the categories are few).
  dist::ByteWriter mine;
  for (int c = 0; c < num_categorical; ++c) {
    std::unordered_map<std::string, int64_t> counts;
    for (const auto& row : rows) ++counts[schema_.categorical_value(row, c)];
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
  columns_.assign(static_cast<size_t>(num_categorical), {});
  for (int c = 0; c < num_categorical; ++c) {
    std::vector<std::pair<std::string, int64_t>> sorted(counts[c].begin(), counts[c].end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    CategoryIndex& index = columns_[c];
    index.column = schema_.column(schema_.categorical()[static_cast<size_t>(c)]).name;
    for (auto& [value, count] : sorted) {
      index.categories.push_back(value);
      index.counts.push_back(count);
    }
    index.only_indexed = index.categories.size() < 2;
    rebuild_lookup(index);
  }

  // Two passes (mean, then squared deviations) keep the std accurate; each
  // sum is exact, so neither row order nor rank count changes a bit.
  scaler_std_.assign(num_scaled, 0.0);
  if (rows_ >= 2) {
    const double n = static_cast<double>(rows_);
    auto global_sums = [&](auto term) {
      std::vector<int64_t> limbs(static_cast<size_t>(num_scaled) * ExactSum::kLimbs);
      for (int s = 0; s < num_scaled; ++s) {
        ExactSum sum;
        for (const auto& row : rows) sum.add(term(row, s));
        const auto l = sum.limbs();
        std::copy(l.begin(), l.end(), limbs.begin() + static_cast<ptrdiff_t>(s) * ExactSum::kLimbs);
      }
      comm.allreduce_sum(limbs);
      std::vector<double> out(num_scaled);
      for (int s = 0; s < num_scaled; ++s) {
        out[s] =
            ExactSum::from_limbs(std::span(limbs).subspan(static_cast<size_t>(s) * ExactSum::kLimbs,
                                                          ExactSum::kLimbs))
                .value();
      }
      return out;
    };
    std::vector<double> mean =
        global_sums([&](const FeatureRow& row, int s) { return schema_.scaled_value(row, s); });
    for (double& m : mean) m /= n;
    const std::vector<double> squares = global_sums([&](const FeatureRow& row, int s) {
      const double d = schema_.scaled_value(row, s) - mean[s];
      return d * d;
    });
    for (int s = 0; s < num_scaled; ++s) scaler_std_[s] = std::sqrt(squares[s] / (n - 1));
  }
  build_layout();
}

void Encoder::build_layout() {
  feature_names_.clear();
  feature_names_.push_back(schema_.of(ColumnRole::kTrend).name);
  for (const auto& index : columns_) {
    if (index.only_indexed) feature_names_.push_back(index.column + "_index");
  }
  for (const auto& index : columns_) {
    if (index.only_indexed) continue;
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

template <typename T>
void Encoder::transform_impl(const FeatureRow& row, std::span<T> out) const {
  if (out.size() != feature_names_.size()) {
    fail_internal("encoder output has " + std::to_string(out.size()) + " slots, expected " +
                  std::to_string(feature_names_.size()));
  }
  std::fill(out.begin(), out.end(), T{0});
  size_t pos = 0;
  out[pos++] = static_cast<T>(row.linear_trend);
  const int num_categorical = static_cast<int>(columns_.size());
  for (int c = 0; c < num_categorical; ++c) {
    const auto& index = columns_[c];
    if (index.only_indexed)
      out[pos++] = static_cast<T>(index.index_of(schema_.categorical_value(row, c)));
  }
  for (int c = 0; c < num_categorical; ++c) {
    const auto& index = columns_[c];
    if (index.only_indexed) continue;
    const size_t width = index.categories.size() - 1;
    const int i = index.index_of(schema_.categorical_value(row, c));
    // The last category and unseen ones are all zeros.
    if (static_cast<size_t>(i) < width) out[pos + i] = T{1};
    pos += width;
  }
  for (int s = 0; s < schema_.num_scaled(); ++s) {
    const double sd = scaler_std_[s];
    out[pos++] = sd == 0 ? T{0} : static_cast<T>(schema_.scaled_value(row, s) / sd);
  }
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
    const int version = json.at("formatVersion").get<int>();
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
      index.counts = json.at("categoryCounts").at(index.column).get<std::vector<int64_t>>();
      index.only_indexed = index.categories.size() < 2;
      rebuild_lookup(index);
      encoder.columns_.push_back(std::move(index));
    }
    for (int s = 0; s < schema->num_scaled(); ++s)
      encoder.scaler_std_.push_back(json.at("scalerStd").at(schema->scaled_name(s)).get<double>());
    encoder.rows_ = json.at("rows").get<int64_t>();
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
