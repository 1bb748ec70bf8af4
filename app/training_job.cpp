#include "training_job.h"

#include <cstdio>
#include <filesystem>

#include "cli_support.h"
#include "common/error.h"
#include "common/progress.h"
#include "dist/job.h"
#include "etl/etl.h"
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
  for (int c = 0; c < kNumLabels; ++c) {
    const auto& cm = m.per_class[c];
    std::printf("      %-6s P %.4f  R %.4f  F1 %.4f  n %-8lld  confusion [%lld %lld %lld]\n",
                kLabelNames[c], cm.precision, cm.recall, cm.f1, static_cast<long long>(cm.support),
                static_cast<long long>(m.confusion[c][0]),
                static_cast<long long>(m.confusion[c][1]),
                static_cast<long long>(m.confusion[c][2]));
  }
}

}  // namespace

TrainingJob::TrainingJob(const std::string& command, const std::string& config_path,
                         const std::string& output, int threads, dist::Communicator& comm,
                         track::RunRecorder& run)
    : command_(command),
      config_(load_config_for(command, config_path, output, comm.rank())),
      threads_(threads),
      comm_(comm),
      run_(run),
      show_progress_(comm.rank() == 0 && Progress::stderr_is_terminal()) {
  // A blob output's feature table and summary are read from a local copy.
  copy_ = std::make_unique<OutputCopy>(config_, comm_, command_);
  if (copy_->remote())
    dist::decide_on_root(comm_, [&] {
      copy_->output().fetch(kTablesPart, config_.output, {"features", etl_output_names().back()});
      return nullptr;
    });
  track::record_config(run_, config_);
  run_.param("threads", std::to_string(threads_));
  const fs::path features_dir = config_.output / "features";
  dist::decide_on_root(comm_, [&] {
    if (!fs::is_directory(features_dir)) {
      fail_data("no feature table found at " + features_dir.string() + " (run 'loadcast etl " +
                config_path + "' first)");
    }
    check_features_match(config_);
    return nlohmann::json();
  });
  // Each rank reads its own share of the table, once per pass.
  rows_ = [features_dir, &comm, threads](const FeatureRowVisitor& visit) {
    for_each_feature_row(features_dir, default_feature_schema(), comm.rank(), comm.size(), visit,
                         threads);
  };
}

TrainingJob::~TrainingJob() = default;

TrainRequest TrainingJob::request() const {
  TrainRequest request;
  request.threads = threads_;
  request.data_accounting = read_data_accounting(config_.output);
  request.on_phase = [this](std::string_view name) { phase(name); };
  request.comm = &comm_;
  return request;
}

void TrainingJob::phase(std::string_view name) const {
  if (!show_progress_) return;
  std::fprintf(stderr, "loadcast %s: [%6.1f s] %.*s\n", command_.c_str(), started_.seconds(),
               static_cast<int>(name.size()), name.data());
}

std::string TrainingJob::write_bundle(const TrainOutcome& outcome) {
  const Model& model = *outcome.model;
  phase("writing the model bundle");
  const fs::path model_dir = config_.output / "model";
  // One writer at a time; a bundle staged by a killed run is removed.
  const OutputLock lock(config_.output, command_, {model_dir});
  model.save(model_dir);
  Published published;
  if (copy_->remote()) {
    phase("publishing the model bundle");
    published = copy_->output().publish(kModelPart, config_.output, {"model"});
  }
  if (!outcome.boosting.validation_loss.empty()) {
    const auto& b = outcome.boosting;
    run_.metric("boosting_rounds", b.rounds);
    run_.metric("boosting_rounds_kept", b.best_round);
    run_.metric("validation_log_loss", b.validation_loss[static_cast<size_t>(b.best_round) - 1]);
  }
  track::record_train(run_, model.metrics(), outcome.train_seconds, outcome.total_seconds,
                      model_dir, published.location);
  if (copy_->remote()) return config_.output_url + " (generation " + published.generation + ")";
  return model_dir.string();
}

void TrainingJob::print_outcome(const TrainOutcome& outcome, const std::string& where) const {
  const Model& model = *outcome.model;
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
              outcome.total_seconds, threads_);
  if (comm_.size() > 1) {
    const auto& x = outcome.exchange;
    std::printf(" x %d ranks, allreduce %.2f MB per tree in %lld calls, %.2f s waiting on rank 0",
                comm_.size(),
                static_cast<double>(x.allreduce_bytes) / 1e6 / static_cast<double>(trees),
                static_cast<long long>(x.allreduce_calls), x.allreduce_seconds);
  }
  std::printf(" -> %s\n", where.c_str());
}

}  // namespace loadcast::app
