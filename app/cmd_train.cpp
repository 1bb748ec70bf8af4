// `loadcast train CONFIG`: feature table -> encoder + random forest -> model
// bundle, in one process or under `mpirun -np N`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "dist/job.h"
#include "model/trainer.h"
#include "training_job.h"

namespace loadcast::app {

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
    TrainingJob job("train", config_path, output, threads, *comm, run);
    if (!export_dir.empty() && comm->size() > 1)
      throw dist::CollectiveFailure(ExitCode::kUsage,
                                    "--export-matrix needs a single process (not mpirun -np " +
                                        std::to_string(comm->size()) + ")");
    const TrainOutcome outcome = train_model(job.config(), job.rows(), job.request());
    if (!root) return 0;
    const std::string where = job.write_bundle(outcome);
    if (!export_dir.empty()) {
      job.phase("exporting the matrices");
      export_matrices(*outcome.model, job.config(), job.rows(), export_dir);
    }
    job.print_outcome(outcome, where);
    return 0;
  };
  return dist::run_job(*comm, "train", [&] { return run_recorded(run, train); });
}

}  // namespace loadcast::app
