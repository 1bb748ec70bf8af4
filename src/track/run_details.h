// What the etl and train runs put in the run history: the effective
// configuration as parameters, the line accounting, throughput and model
// metrics as metrics, and their outputs as artifacts (sha256 included).
#pragma once

#include <filesystem>

#include "config/config.h"
#include "etl/etl.h"
#include "model/model.h"
#include "model/tuning.h"
#include "track/recorder.h"

namespace loadcast::track {

// Window, split, thresholds, layout, dataFile, output and forest parameters.
void record_config(RunRecorder& run, const Config& config);

// rows, bytes, MB/s, seconds, and accepted/rejected lines by reason; the
// summary and the output tables as artifacts (at `location`, a blob
// output's generation, when given).
void record_etl(RunRecorder& run, const Config& config, const EtlReport& report,
                const std::string& location = {});

// train.* and test.* accuracy, weighted precision/recall/F1 and rows; the
// bundle as artifact "model" (at `location` + "/model" when given).
void record_train(RunRecorder& run, const BundleMetrics& metrics, double train_seconds,
                  double total_seconds, const std::filesystem::path& model_dir,
                  const std::string& location = {});

// Each trial as a finished child run ("trial": its values as parameters,
// every fold's validation metrics as steps, their means), and on the
// tuning run itself the trial count, the best trial, its values as best.*
// parameters, its mean score and the trials per minute.
void record_tuning(RunRecorder& run, const Config& config, const TuningOutcome& outcome);

}  // namespace loadcast::track
