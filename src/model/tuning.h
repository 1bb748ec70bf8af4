// `loadcast tune` as a library call (docs/tuning.md): rolling-origin
// cross-validation by whole days before testSplitStart, a grid or random
// search over the configuration's tuning space, and the best parameters
// refit on every training row. Every trial runs on all ranks and threads
// (each rank its own rows, as train does), so the trees, the fold metrics
// and the choice are the same for any rank or thread count.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/config.h"
#include "eval/metrics.h"
#include "features/feature_row.h"
#include "model/trainer.h"

namespace loadcast {

// One fold: trains on the rows strictly before validation_start and is
// scored on the rows from validation_start to validation_end (exclusive).
struct TuningFold {
  TimeNs validation_start = 0;
  TimeNs validation_end = 0;
};

// The folds of config.tuning, oldest first: `folds` windows of `foldDays`
// whole days, the last one ending at testSplitStart.
std::vector<TuningFold> tuning_folds(const Config& config);

// One parameter set: {dotted field name: value}, applied by
// with_training_values (config/config.h).
struct Trial {
  int index = 0;  // from 0, in search order
  nlohmann::json values = nlohmann::json::object();
};

// The trials of config.tuning: the grid in name order (the first name
// varies slowest), or `trials` random draws (a draw equal to an earlier one
// is drawn again, up to a limit), from the tuning seed alone.
std::vector<Trial> search_trials(const Config& config);

struct FoldResult {
  Metrics metrics;         // on the fold's validation rows, every rank's
  int64_t train_rows = 0;  // every rank's, with boosting's early-stopping tail
  int64_t validation_rows = 0;
  // The earliest and latest row hour (unix seconds) the fold trained on and
  // was scored on, over every rank.
  int64_t first_train_hour = 0;
  int64_t last_train_hour = 0;
  int64_t first_validation_hour = 0;
  int64_t last_validation_hour = 0;
  int boosting_rounds_kept = 0;  // boosted trees with early stopping; else 0
  double seconds = 0;            // growing and scoring
};

struct TrialResult {
  Trial trial;
  std::vector<FoldResult> folds;  // by fold
  double score = 0;               // mean over folds of tuning.metric
  double seconds = 0;
};

struct TuningOutcome {
  std::vector<TuningFold> folds;
  std::vector<TrialResult> trials;
  int best = 0;        // index into trials
  Config best_config;  // config with the best trial's values
  TrainOutcome refit;  // train_model of best_config on every row
  double seconds = 0;  // the whole search, refit included
};

// Called on every rank after each fold of each trial (trials of one fold
// run before the next fold's).
using FoldDone = std::function<void(const TrialResult& trial, int fold)>;

// Throws Failure(kUsage) naming tuning.folds and tuning.foldDays when a
// fold has no training or no validation rows; the failures of train_model
// otherwise. Collective when request.comm is set. Rows are read into
// memory once when they fit request.held_rows_bytes, else read again for
// each fold and bin setting.
TuningOutcome tune_model(const Config& config, const FeatureRowPasses& rows,
                         const TrainRequest& request, const FoldDone& on_fold = {});

}  // namespace loadcast
