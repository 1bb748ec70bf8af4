// `loadcast tune CONFIG`: rolling-origin cross-validation of the
// configuration's tuning space, the best parameters refit into the model
// bundle, every trial recorded as a child of the tuning run.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "common/time.h"
#include "dist/job.h"
#include "model/tuning.h"
#include "table_output.h"
#include "track/run_details.h"
#include "training_job.h"

namespace loadcast::app {
namespace {

std::string value_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string values_text(const nlohmann::json& values) {
  std::string out;
  for (auto it = values.begin(); it != values.end(); ++it)
    out += (out.empty() ? "" : ", ") + it.key() + " " + value_text(*it);
  return out.empty() ? "the configuration as given" : out;
}

std::string fixed(double v, const char* format = "%.4f") {
  char text[32];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

// The folds, then one row per trial: its values, each fold's metric, the mean.
void print_trials(const Config& config, const TuningOutcome& outcome) {
  for (size_t f = 0; f < outcome.folds.size(); ++f) {
    const FoldResult& r = outcome.trials.front().folds[f];
    std::printf("fold %zu: trains on %lld rows before %s, validates on %lld rows to %s\n", f + 1,
                static_cast<long long>(r.train_rows),
                format_timestamp(seconds_of(outcome.folds[f].validation_start)).c_str(),
                static_cast<long long>(r.validation_rows),
                format_timestamp(seconds_of(outcome.folds[f].validation_end)).c_str());
  }
  const TuningMetric metric = config.tuning.metric;
  TextTable table;
  table.header = {"TRIAL"};
  for (const SearchAxis& a : config.tuning.space) table.header.push_back(a.name);
  for (size_t f = 0; f < outcome.folds.size(); ++f)
    table.header.push_back("FOLD " + std::to_string(f + 1));
  table.header.push_back(std::string("MEAN ") + metric_name(metric));
  table.header.push_back("SECONDS");
  for (const TrialResult& t : outcome.trials) {
    std::vector<std::string> row{std::to_string(t.trial.index) +
                                 (t.trial.index == outcome.best ? " *" : "")};
    for (const SearchAxis& a : config.tuning.space)
      row.push_back(value_text(t.trial.values[a.name]));
    for (const FoldResult& r : t.folds)
      row.push_back(fixed(metric == TuningMetric::kAccuracy ? r.metrics.accuracy : r.metrics.f1));
    row.push_back(fixed(t.score));
    row.push_back(fixed(t.seconds, "%.2f"));
    table.rows.push_back(std::move(row));
  }
  table.print_aligned(stdout);
}

}  // namespace

int run_tune(int argc, char** argv) {
  CLI::App cli(
      "Cross-validates by time and searches the configuration's 'tuning' space (docs/tuning.md): "
      "K folds of whole days before testSplitStart (tuning.folds x tuning.foldDays; each fold "
      "trains only on the rows before its validation days, never on later ones), a grid of the "
      "space's lists or tuning.trials random draws from its lists and ranges, each parameter set "
      "grown on every fold and scored by the mean of its validation accuracy (or weighted F1). "
      "The best set is refit on every training row and written as the model bundle to "
      "<output>/model/ with its test metrics, as 'train' does. Every trial is recorded in the run "
      "history as a child of the tuning run ('loadcast runs show ID', 'loadcast ui'). Each trial "
      "runs on all threads and, under 'mpirun -np N loadcast tune CONFIG', on all ranks, each "
      "holding its own share of the rows: the trees, the scores, the choice and the bundle are "
      "the same for any thread or rank count.",
      "loadcast tune");
  std::string config_path;
  int threads = dist::default_threads();
  std::string output;
  std::string workspace;
  cli.add_option("CONFIG", config_path,
                 "storageconfig.json with a 'tuning' object (docs/configuration.md)")
      ->required();
  cli.add_option("--threads", threads,
                 "threads per process (default: all cores, shared among the MPI ranks of a node)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_option("--output", output,
                 "folder holding features/ and receiving model/, or a blob output's URL "
                 "(default: the configuration's 'output', else outputs/<storageContainer>)");
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  const auto comm = dist::make_communicator();
  const bool root = comm->rank() == 0;
  track::RunRecorder run({workspace, "tune", recorded_arguments(argc, argv), config_path, threads});
  auto tune = [&] {
    TrainingJob job("tune", config_path, output, threads, *comm, run);
    const Config& config = job.config();
    const size_t trials = search_trials(config).size();
    const auto folds = static_cast<size_t>(config.tuning.folds);
    size_t done = 0;
    const auto on_fold = [&](const TrialResult& t, int fold) {
      ++done;
      const FoldResult& r = t.folds[static_cast<size_t>(fold)];
      job.phase("fold " + std::to_string(fold + 1) + "/" + std::to_string(folds) + ", trial " +
                std::to_string(t.trial.index + 1) + "/" + std::to_string(trials) + " (" +
                values_text(t.trial.values) + "): validation accuracy " +
                fixed(r.metrics.accuracy) + " in " + fixed(r.seconds, "%.2f") + " s [" +
                std::to_string(done) + " of " + std::to_string(trials * folds) + "]");
    };
    job.phase("searching " + std::to_string(trials) + " parameter sets on " +
              std::to_string(folds) + " folds");
    const TuningOutcome outcome = tune_model(config, job.rows(), job.request(), on_fold);
    if (!root) return 0;
    const std::string where = job.write_bundle(outcome.refit);
    track::record_tuning(run, config, outcome);
    print_trials(config, outcome);
    const TrialResult& best = outcome.trials[static_cast<size_t>(outcome.best)];
    const double search_seconds = outcome.seconds - outcome.refit.total_seconds;
    std::printf(
        "best: trial %d (%s), mean validation %s %.4f; %zu trials x %zu folds in %.1f s, "
        "%.1f trials/min\n",
        best.trial.index, values_text(best.trial.values).c_str(), metric_name(config.tuning.metric),
        best.score, trials, folds, search_seconds,
        search_seconds > 0 ? 60.0 * static_cast<double>(trials) / search_seconds : 0.0);
    std::printf("refit on every training row:\n");
    job.print_outcome(outcome.refit, where);
    return 0;
  };
  return dist::run_job(*comm, "tune", [&] { return run_recorded(run, tune); });
}

}  // namespace loadcast::app
