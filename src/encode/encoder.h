// Feature encoding (docs/outputs.md): string indexers for the categorical columns
// (only-indexed or one-hot with the last category dropped), the x/s scaler of
// the lag columns, and the layout and names of the model's feature vector.
// Fitting reduces exact counts and sums, so it gives the same encoder on one
// process or over the rows of N MPI ranks.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/exact_sum.h"
#include "dist/communicator.h"
#include "features/feature_row.h"
#include "features/schema.h"

namespace loadcast {

// One categorical column's index: categories by count descending, ties by
// string ascending.
struct CategoryIndex {
  std::string column;
  std::vector<std::string> categories;
  std::vector<int64_t> counts;
  bool only_indexed = false;  // fewer than 2 categories: one numeric feature

  // Index of `value`, or categories.size() when it was never seen.
  int index_of(const std::string& value) const;

  std::unordered_map<std::string, int> lookup;  // rebuilt by fit/from_json
};

// Features [first, first + width) of the vector: one categorical column's
// one-hot features, of which at most one is 1 in a row.
struct OneHotColumns {
  int first = 0;
  int width = 0;
};

class Encoder {
 public:
  static constexpr int kFormatVersion = 1;

  // Fits indexers and scaler on all rows, for the categorical and scaled
  // columns of `schema`. Requires at least one row.
  void fit(std::span<const FeatureRow> rows, const FeatureSchema& schema);
  // The same over the rows of every rank of `comm`, each passing its own
  // (collective): category counts are integer sums and the scaler's moments
  // exact sums, so the encoder does not depend on how rows are spread.
  void fit(std::span<const FeatureRow> rows, dist::Communicator& comm, const FeatureSchema& schema);

  // The schema whose columns this encoder reads (a bundle's follows from
  // its scaled column names).
  const FeatureSchema& schema() const { return schema_; }

  int num_features() const { return static_cast<int>(feature_names_.size()); }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::vector<CategoryIndex>& columns() const { return columns_; }
  // Sample standard deviations of the schema's scaled columns.
  const std::vector<double>& scaler_std() const { return scaler_std_; }
  std::vector<std::string> column_only_indexed() const;
  std::vector<std::string> column_for_encode() const;
  int64_t fitted_rows() const { return rows_; }

  // The one-hot blocks of the feature vector, and the count of the other
  // (numeric) features: the trend, the indexed columns, the scaled ones.
  const std::vector<OneHotColumns>& one_hot_blocks() const { return blocks_; }
  int num_numeric() const { return num_features() - one_hot_width_; }
  // The row in compact form: its numeric features in feature order, and per
  // one-hot block the position of its 1 (the block's width: none).
  void transform_compact(const FeatureRow& row, std::span<float> numeric,
                         std::span<uint16_t> codes) const;

  // Writes the row's feature vector; `out.size()` must equal num_features().
  void transform(const FeatureRow& row, std::span<double> out) const;
  void transform(const FeatureRow& row, std::span<float> out) const;
  // Row-major matrix of rows.size() x num_features(), encoded on `threads`.
  std::vector<float> transform_all(std::span<const FeatureRow> rows, int threads = 1) const;

  // The shape of tests/golden/case/expected/encoding.json plus a version.
  nlohmann::json to_json() const;
  // Throws Failure(kData) on a missing field or another format version.
  static Encoder from_json(const nlohmann::json& json);

 private:
  friend class EncoderFit;
  // Calls numeric(i, value) for the i-th numeric feature and code(b, c) for
  // one-hot block b: the one encoding both transforms spell out.
  template <typename Numeric, typename Code>
  void visit_parts(const FeatureRow& row, Numeric&& numeric, Code&& code) const;
  template <typename T>
  void transform_impl(const FeatureRow& row, std::span<T> out) const;
  void build_layout();

  FeatureSchema schema_;
  std::vector<CategoryIndex> columns_;  // in the schema's categorical order
  std::vector<double> scaler_std_;
  std::vector<std::string> feature_names_;
  std::vector<OneHotColumns> blocks_;  // from build_layout
  int one_hot_width_ = 0;              // the features of all blocks
  int64_t rows_ = 0;
};

// Fits an encoder in two passes over rows that need not be in memory (each
// rank its own): count() every row, finish_counts(), deviate() every row
// again, finish(). The same encoder as Encoder::fit on the same rows.
class EncoderFit {
 public:
  explicit EncoderFit(const FeatureSchema& schema);
  void count(const FeatureRow& row);
  // Collective. Throws Failure(kData) when no rank has a row.
  void finish_counts(dist::Communicator& comm);
  // The categories, once counted.
  const Encoder& categories() const { return encoder_; }
  void deviate(const FeatureRow& row);
  // deviate() for each of `rows` that `keep` takes (all when it is empty),
  // on `threads` (the sums are exact: the same).
  void deviate(std::span<const FeatureRow> rows, int threads,
               const std::function<bool(const FeatureRow&)>& keep = {});
  // Collective.
  Encoder finish(dist::Communicator& comm);

 private:
  std::vector<double> global_values(dist::Communicator& comm) const;
  void add_deviations(const FeatureRow& row, std::vector<ExactSum>& sums) const;

  Encoder encoder_;
  int64_t rows_ = 0;
  std::vector<std::unordered_map<std::string, int64_t>> categories_;
  std::vector<ExactSum> sums_;  // of the scaled values, then of their squared deviations
  std::vector<double> mean_;
};

}  // namespace loadcast
