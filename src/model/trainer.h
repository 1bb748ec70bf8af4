// The training pipeline of `loadcast train` (docs/outputs.md) as a library call:
// fit the encoder on all rows, split by time, grow the forest or boost the
// trees, evaluate on both sides, and hand back the model. On the ranks
// of an MPI job each passes its own rows and every rank gets the same model.
#pragma once

#include <array>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "dist/communicator.h"
#include "features/feature_row.h"
#include "features/schema.h"
#include "forest/training_set.h"
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
  // The same rows as the passes, already in memory: read from here and
  // never copied (the passes are then not called).
  std::span<const FeatureRow> rows_in_memory;
  bool rows_are_in_memory = false;
  // Rows at or after this time are left out: not fitted, trained or
  // evaluated (a tuning fold ends where its validation days end).
  TimeNs rows_end = std::numeric_limits<TimeNs>::max();
};

// The three sets one fit bins its rows into.
enum RowPart { kTrainRows, kValidationRows, kTestRows };

// The rows of one fit, encoded and binned: the training rows (strictly
// before testSplitStart, without boosting's early-stopping tail), that
// tail, and the test rows (from testSplitStart to rows_end).
struct BinnedRows {
  Encoder encoder;
  std::vector<forest::TrainingSet> sets;  // by RowPart
  std::array<int64_t, 3> rows{};          // by RowPart, this rank's
  std::array<int64_t, 3> global_rows{};   // by RowPart, every rank's
  // This rank's earliest and latest row hour (unix seconds) in each part;
  // INT64_MAX and INT64_MIN for an empty part.
  std::array<std::pair<int64_t, int64_t>, 3> hours{};
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

// Passes 1 to 3 of train_model below: the encoder fitted and every row
// binned. The same failures.
BinnedRows bin_rows(const Config& config, const FeatureRowPasses& rows,
                    const TrainRequest& request);

// The trees of `config`'s algorithm and parameters grown on rows.sets
// (boosting watches the validation tail); fills outcome's exchange,
// boosting and train_seconds. Collective when request.comm is set.
forest::Forest grow_trees(const Config& config, const BinnedRows& rows, const TrainRequest& request,
                          TrainOutcome& outcome);

// Metrics over every rank's rows of `set`: the confusion counts are summed exactly.
Metrics evaluate_rows(const forest::Forest& forest, const forest::TrainingSet& set, int threads,
                      dist::Communicator& comm);

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
