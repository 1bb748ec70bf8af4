// The model bundle of docs/outputs.md: one self-contained directory (info.json,
// encoder.json, forest.json, metrics.json) written atomically, its versioned
// loader, and `Model::predict`, the one scoring entry point for rows.
#pragma once

#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "common/time.h"
#include "config/config.h"
#include "encode/encoder.h"
#include "eval/metrics.h"
#include "features/feature_row.h"
#include "forest/forest.h"
#include "model/flat_forest.h"
#include "model/row_encoder.h"

namespace loadcast {

inline constexpr int kBundleFormatVersion = 1;

// What the bundle records about the run that made it: the data, window and
// thresholds of its configuration (training_params), and the row counts.
struct ModelInfo : TrainingSpec {
  int64_t train_rows = 0;
  int64_t test_rows = 0;
  nlohmann::json data_accounting;  // the ETL's line accounting, null if unknown
};

struct BundleMetrics {
  Metrics train;
  Metrics test;
};

struct Prediction {
  int label = 0;                        // 1 low, 2 medium, 3 high
  std::array<double, 3> probability{};  // of labels 1, 2, 3
};

class Model {
 public:
  Model(ModelInfo info, Encoder encoder, forest::Forest forest, BundleMetrics metrics);

  // Throws Failure(kData) naming the directory and what is wrong: a missing
  // file, malformed JSON, or a bundle format version this build cannot read.
  static Model load(const std::filesystem::path& dir);
  // Replaces `dir` atomically (store/atomic_dir.h): a failed save leaves the
  // previous bundle in place.
  void save(const std::filesystem::path& dir) const;

  // Encodes and scores rows; the result does not depend on `threads` and
  // equals forest().predict_proba on the encoder's matrix bit for bit.
  std::vector<Prediction> predict(std::span<const FeatureRow> rows, int threads = 1) const;

  const ModelInfo& info() const { return info_; }
  const Encoder& encoder() const { return encoder_; }
  // The feature schema of the rows it scores (its encoder's).
  const FeatureSchema& schema() const { return encoder_.schema(); }
  const forest::Forest& forest() const { return forest_; }
  const BundleMetrics& metrics() const { return metrics_; }

  nlohmann::json info_json() const;
  nlohmann::json metrics_json() const;

 private:
  ModelInfo info_;
  Encoder encoder_;
  forest::Forest forest_;
  RowEncoder row_encoder_;  // encoder_ for scoring
  FlatForest flat_;         // forest_ laid out for scoring
  BundleMetrics metrics_;
};

}  // namespace loadcast
