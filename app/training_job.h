// What `train` and `tune` share around the trainer: the configuration, the
// feature table under its output (a local copy of a blob output's), read
// by each rank in passes, the phases shown on a terminal, and the model
// bundle written, published, recorded and reported.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "blob_places.h"
#include "common/stopwatch.h"
#include "config/config.h"
#include "dist/communicator.h"
#include "features/feature_row.h"
#include "model/trainer.h"
#include "track/recorder.h"

namespace loadcast::app {

class TrainingJob {
 public:
  // Loads the configuration, fetches a blob output's feature table and
  // checks that the table is there and matches the configuration; records
  // the configuration and the thread count in `run`.
  TrainingJob(const std::string& command, const std::string& config_path, const std::string& output,
              int threads, dist::Communicator& comm, track::RunRecorder& run);
  ~TrainingJob();
  TrainingJob(const TrainingJob&) = delete;
  TrainingJob& operator=(const TrainingJob&) = delete;

  const Config& config() const { return config_; }
  // This rank's share of the feature table, read once per call.
  const FeatureRowPasses& rows() const { return rows_; }
  // Threads, ranks, the table's data accounting and the phase printer.
  TrainRequest request() const;
  // "loadcast train: [  1.2 s] name" on stderr, from rank 0 on a terminal.
  void phase(std::string_view name) const;

  // Rank 0: writes the bundle to <output>/model atomically, publishes it to
  // a blob output, records train metrics and the bundle in the run. Returns
  // where it went, as the summary line ends.
  std::string write_bundle(const TrainOutcome& outcome);
  // Rank 0: the metrics tables and the summary line `train` prints.
  void print_outcome(const TrainOutcome& outcome, const std::string& where) const;

 private:
  std::string command_;
  Config config_;
  int threads_;
  dist::Communicator& comm_;
  track::RunRecorder& run_;
  std::unique_ptr<OutputCopy> copy_;
  FeatureRowPasses rows_;
  bool show_progress_;
  Stopwatch started_;
};

}  // namespace loadcast::app
