// `loadcast train CONFIG`: feature table -> encoder + random forest -> model
// bundle, in one process or under `mpirun -np N`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/stopwatch.h"
#include "config/config.h"
#include "dist/job.h"
#include "etl/etl.h"
#include "model/trainer.h"
#include "store/atomic_dir.h"
#include "store/tables.h"
#include "track/run_details.h"

namespace loadcast::app {
namespace {

namespace fs = std::filesystem;

void print_metrics_table(const char* name, const Metrics& m) {
  std::printf("%-5s rows %8lld  accuracy %.4f  wPrecision %.4f  wRecall %.4f  F1 %.4f\n", name,
              static_cast<long long>(m.rows), m.accuracy, m.weighted_precision, m.weighted_recall,
              m.f1);
  static const char* kNames[] = {"low", "medium", "high"};
  for (int c = 0; c < kNumLabels; ++c) {
    const auto& cm = m.per_class[c];
    std::printf("      %-6s P %.4f  R %.4f  F1 %.4f  n %-8lld  confusion [%lld %lld %lld]\n",
                kNames[c], cm.precision, cm.recall, cm.f1, static_cast<long long>(cm.support),
                static_cast<long long>(m.confusion[c][0]),
                static_cast<long long>(m.confusion[c][1]),
                static_cast<long long>(m.confusion[c][2]));
  }
}

}  // namespace

int run_train(int argc, char** argv) {
  CLI::App cli(
      "Reads the feature table that 'loadcast etl' wrote under the output folder (features/), fits "
      "the categorical indexers and the lag scaler on all rows, splits by time (train rows before "
      "testSplitStart, test rows from it on), trains a random forest with the configuration's "
      "'forest' parameters (" +
          describe_defaults(forest::forest_params()) +
          " unless set), or, with \"algorithm\": \"gradientBoostedTrees\", gradient-boosted trees "
          "with its 'boosting' parameters (" +
          describe_defaults(forest::boost_params()) +
          " unless set; early stopping holds out the last validationDays before testSplitStart), "
          "on compact binned rows (the table is read in passes and never held: about 40 bytes a "
          "row whatever the fleet), prints train and test metrics, and writes the model bundle to "
          "<output>/model/ atomically (see docs/configuration.md and docs/outputs.md). The same "
          "feature table and seed give byte-identical trees for any thread count. Under 'mpirun "
          "-np N loadcast train CONFIG' each rank reads its own share of the feature table, the "
          "encoder's counts and moments and the trees' histograms are summed across ranks, every "
          "rank grows the same trees, and rank 0 writes the bundle: byte-identical to one "
          "process's, whatever N.",
      "loadcast train");
  std::string config_path;
  int threads = dist::default_threads();
  std::string output;
  std::string export_dir;
  std::string workspace;
  cli.add_option("CONFIG", config_path,
                 "storageconfig.json (the seed's format; docs/configuration.md)")
      ->required();
  cli.add_option(
         "--threads", threads,
         "training threads per process (default: all cores, shared among the MPI ranks of a node)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_option("--output", output,
                 "folder holding features/ and receiving model/, or a blob output's URL "
                 "(default: the configuration's 'output', else outputs/<storageContainer>)");
  cli.add_option("--export-matrix", export_dir,
                 "also write the encoded train/test matrices and labels as CSV into this folder "
                 "(train_X.csv, train_y.csv, test_X.csv, test_y.csv; one process only)");
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  const auto comm = dist::make_communicator();
  const bool root = comm->rank() == 0;
  // Only rank 0 records (RunRecorder), with the rank count.
  track::RunRecorder run(
      {workspace, "train", recorded_arguments(argc, argv), config_path, threads});
  auto train = [&] {
    Config config = load_config_for("train", config_path, output, comm->rank());
    // A blob output's feature table and summary are read from a local copy.
    OutputCopy copy(config, *comm, "train");
    if (copy.remote())
      dist::decide_on_root(*comm, [&] {
        copy.output().fetch(kTablesPart, config.output, {"features", etl_output_names().back()});
        return nullptr;
      });
    track::record_config(run, config);
    run.param("threads", std::to_string(threads));
    if (!export_dir.empty() && comm->size() > 1)
      throw dist::CollectiveFailure(ExitCode::kUsage,
                                    "--export-matrix needs a single process (not mpirun -np " +
                                        std::to_string(comm->size()) + ")");

    const bool show_progress = root && Progress::stderr_is_terminal();
    const Stopwatch started;
    auto phase = [&](std::string_view name) {
      if (!show_progress) return;
      std::fprintf(stderr, "loadcast train: [%6.1f s] %.*s\n", started.seconds(),
                   static_cast<int>(name.size()), name.data());
    };

    const fs::path features_dir = config.output / "features";
    dist::decide_on_root(*comm, [&] {
      if (!fs::is_directory(features_dir)) {
        fail_data("no feature table found at " + features_dir.string() + " (run 'loadcast etl " +
                  config_path + "' first)");
      }
      check_features_match(config);
      return nlohmann::json();
    });
    // Each rank reads its own share of the table, once per pass; no row is held.
    const FeatureRowPasses rows = [&](const FeatureRowVisitor& visit) {
      for_each_feature_row(features_dir, default_feature_schema(), comm->rank(), comm->size(),
                           visit, threads);
    };

    TrainRequest request;
    request.threads = threads;
    request.data_accounting = read_data_accounting(config.output);
    request.on_phase = phase;
    request.comm = comm.get();
    TrainOutcome outcome = train_model(config, rows, request);
    const Model& model = *outcome.model;
    if (!root) return 0;

    phase("writing the model bundle");
    const fs::path model_dir = config.output / "model";
    // One writer at a time; a bundle staged by a killed train is removed.
    const OutputLock lock(config.output, "train", {model_dir});
    model.save(model_dir);
    if (!export_dir.empty()) {
      phase("exporting the matrices");
      export_matrices(model, config, rows, export_dir);
    }

    Published published;
    if (copy.remote()) {
      phase("publishing the model bundle");
      published = copy.output().publish(kModelPart, config.output, {"model"});
    }
    if (!outcome.boosting.validation_loss.empty()) {
      const auto& b = outcome.boosting;
      run.metric("boosting_rounds", b.rounds);
      run.metric("boosting_rounds_kept", b.best_round);
      run.metric("validation_log_loss", b.validation_loss[static_cast<size_t>(b.best_round) - 1]);
    }
    track::record_train(run, model.metrics(), outcome.train_seconds, outcome.total_seconds,
                        model_dir, published.location);
    std::printf("Train Accuracy = %.4g\n", model.metrics().train.accuracy);
    std::printf("Test Accuracy = %.4g\n", model.metrics().test.accuracy);
    print_metrics_table("train", model.metrics().train);
    print_metrics_table("test", model.metrics().test);
    const size_t trees = model.forest().trees().size();
    const bool boosted = model.forest().algorithm() == forest::Algorithm::kGradientBoostedTrees;
    if (boosted && !outcome.boosting.validation_loss.empty()) {
      const auto& b = outcome.boosting;
      std::printf("early stopping: %d of %d rounds kept, validation log loss %.4f (%lld rows)\n",
                  b.best_round, b.rounds, b.validation_loss[static_cast<size_t>(b.best_round) - 1],
                  static_cast<long long>(b.validation_rows));
    }
    std::printf(boosted ? "%zu features, %zu trees; boosting %.2f s, total %.2f s, %d threads"
                        : "%zu features, %zu trees; forest %.2f s, total %.2f s, %d threads",
                static_cast<size_t>(model.encoder().num_features()), trees, outcome.train_seconds,
                outcome.total_seconds, threads);
    if (comm->size() > 1) {
      const auto& x = outcome.exchange;
      std::printf(" x %d ranks, allreduce %.2f MB per tree in %lld calls, %.2f s waiting on rank 0",
                  comm->size(),
                  static_cast<double>(x.allreduce_bytes) / 1e6 / static_cast<double>(trees),
                  static_cast<long long>(x.allreduce_calls), x.allreduce_seconds);
    }
    if (copy.remote())
      std::printf(" -> %s (generation %s)\n", config.output_url.c_str(),
                  published.generation.c_str());
    else
      std::printf(" -> %s\n", model_dir.string().c_str());
    return 0;
  };
  return dist::run_job(*comm, "train", [&] { return run_recorded(run, train); });
}

}  // namespace loadcast::app
