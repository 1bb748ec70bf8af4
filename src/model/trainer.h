// The training pipeline of `loadcast train` (docs/outputs.md) as a library call:
// fit the encoder on all rows, split by time, grow the forest or boost the
// trees, evaluate on both sides, and hand back the model. On the ranks
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
  // Rows read in the first pass are kept for the other two while they fit
  // this many bytes; past it every pass reads them again. Changes no result.
  size_t held_rows_bytes = size_t{256} << 20;
};

struct TrainOutcome {
  std::optional<Model> model;
  int64_t train_rows = 0;         // this rank's rows before testSplitStart
  int64_t test_rows = 0;          // and at or after it
  int64_t validation_rows = 0;    // of train_rows, boosting's early-stopping tail
  forest::BoostHistory boosting;  // boosted trees: the rounds grown and kept
  size_t set_bytes = 0;           // the compact rows of both, this rank
  forest::TrainStats exchange;    // what growing the forest sent between ranks
  double train_seconds = 0;       // forest growing only
  double total_seconds = 0;       // reading, encoding, growing and evaluating
};

// Throws Failure(kData) when there are no rows, no training rows (all at or
// after testSplitStart), no test rows, or a label outside 1..3; the first
// three are decided from global counts and thrown on every rank as a
// dist::CollectiveFailure. Collective when request.comm is set.
// The rows are read in three passes (categories and means; deviations and
// the quantile sample; binning), never held: memory grows by the compact
// row (a byte per numeric feature, a code per one-hot block, the label and
// the row key), not by the width of the one-hot vector.
TrainOutcome train_model(const Config& config, const FeatureRowPasses& rows,
                         const TrainRequest& request);
TrainOutcome train_model(const Config& config, std::span<const FeatureRow> rows,
                         const TrainRequest& request);

// Writes train_X.csv, train_y.csv, test_X.csv, test_y.csv (header = feature
// names) into `dir`, for comparisons with other learners.
// One more pass over the rows.
void export_matrices(const Model& model, const Config& config, const FeatureRowPasses& rows,
                     const std::filesystem::path& dir);

}  // namespace loadcast
