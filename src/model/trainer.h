// The training pipeline of `loadcast train` (docs/outputs.md) as a library call:
// fit the encoder on all rows, split by time, grow the forest, evaluate on
// both sides, and hand back the model with the encoded matrices. On the ranks
// of an MPI job each passes its own rows and every rank gets the same model.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "dist/communicator.h"
#include "features/feature_row.h"
#include "features/schema.h"
#include "model/model.h"

namespace loadcast {

struct TrainRequest {
  int threads = 1;
  const FeatureSchema* schema = &default_feature_schema();  // of the rows
  nlohmann::json data_accounting;                           // stored in info.json when not null
  std::function<void(std::string_view)> on_phase;           // called at the start of each phase
  // The job's ranks, each calling train_model with its own share of the
  // rows; null: this process holds every row.
  dist::Communicator* comm = nullptr;
};

struct EncodedSplit {
  std::vector<float> x;  // row-major, rows x num_features
  std::vector<int> y;    // labels 1..3
  size_t rows() const { return y.size(); }
};

struct TrainOutcome {
  std::optional<Model> model;
  EncodedSplit train;  // this rank's rows
  EncodedSplit test;
  forest::TrainStats exchange;  // what growing the forest sent between ranks
  double train_seconds = 0;     // forest growing only
  double total_seconds = 0;     // encoding, growing and evaluating
};

// Throws Failure(kData) when there are no rows, no training rows (all at or
// after testSplitStart), no test rows, or a label outside 1..3; the first
// three are decided from global counts and thrown on every rank as a
// dist::CollectiveFailure. Collective when request.comm is set.
TrainOutcome train_model(const Config& config, std::span<const FeatureRow> rows,
                         const TrainRequest& request);

// Writes train_X.csv, train_y.csv, test_X.csv, test_y.csv (header = feature
// names) into `dir`, for comparisons with other learners.
void export_matrices(const TrainOutcome& outcome, const std::filesystem::path& dir);

}  // namespace loadcast
