#include "model/trainer.h"

#include <array>
#include <charconv>
#include <fstream>

#include "common/error.h"
#include "common/stopwatch.h"
#include "dist/job.h"
#include "forest/sampling.h"

namespace loadcast {
namespace fs = std::filesystem;

namespace {

EncodedSplit encode_split(const Encoder& encoder, std::span<const FeatureRow> rows, int threads) {
  EncodedSplit split;
  split.x = encoder.transform_all(rows, threads);
  split.y.reserve(rows.size());
  for (const auto& row : rows) split.y.push_back(row.label);
  return split;
}

// Metrics over every rank's rows: the confusion counts are summed exactly.
Metrics evaluate_split(const forest::Forest& forest, const EncodedSplit& split, size_t cols,
                       int threads, dist::Communicator& comm) {
  const forest::MatrixView view{split.x, split.rows(), cols};
  const auto best =
      forest::Forest::argmax(forest.predict_proba(view, threads), forest.num_classes());
  std::vector<int> predicted(best.size());
  for (size_t i = 0; i < best.size(); ++i) predicted[i] = best[i] + 1;
  auto confusion = evaluate(split.y, predicted).confusion;
  std::array<int64_t, size_t{kNumLabels} * kNumLabels> flat{};
  for (int t = 0; t < kNumLabels; ++t)
    for (int p = 0; p < kNumLabels; ++p) flat[t * kNumLabels + p] = confusion[t][p];
  comm.allreduce_sum(flat);
  for (int t = 0; t < kNumLabels; ++t)
    for (int p = 0; p < kNumLabels; ++p) confusion[t][p] = flat[t * kNumLabels + p];
  return metrics_from_confusion(confusion);
}

[[noreturn]] void fail_on_every_rank(const std::string& message) {
  throw dist::CollectiveFailure(ExitCode::kData, message);
}

}  // namespace

TrainOutcome train_model(const Config& config, std::span<const FeatureRow> rows,
                         const TrainRequest& request) {
  const Stopwatch started;
  auto phase = [&](std::string_view name) {
    if (request.on_phase) request.on_phase(name);
  };
  const int threads = std::max(1, request.threads);
  std::unique_ptr<dist::Communicator> local;
  if (!request.comm) local = dist::make_local_communicator();
  dist::Communicator& comm = request.comm ? *request.comm : *local;
  std::array<int64_t, 1> total{static_cast<int64_t>(rows.size())};
  comm.allreduce_sum(total);
  if (total[0] == 0) fail_on_every_rank("the feature table has no rows");
  for (const auto& row : rows) {
    if (row.label < 1 || row.label > 3) {
      fail_data("feature row " + row.server_ip + "_" + format_timestamp(row.hour) + ": label " +
                std::to_string(row.label) + " is not 1, 2 or 3");
    }
  }

  phase("fitting the encoder");
  Encoder encoder;
  encoder.fit(rows, comm, *request.schema);

  // Split by time: train rows are strictly before testSplitStart.
  std::vector<FeatureRow> train_rows;
  std::vector<FeatureRow> test_rows;
  for (const auto& row : rows) {
    const TimeNs t = static_cast<TimeNs>(row.hour) * kNanosPerSecond;
    (t < config.test_split_start ? train_rows : test_rows).push_back(row);
  }
  std::array<int64_t, 2> split_rows{static_cast<int64_t>(train_rows.size()),
                                    static_cast<int64_t>(test_rows.size())};
  comm.allreduce_sum(split_rows);
  const std::string split_text = format_timestamp(seconds_of(config.test_split_start));
  if (split_rows[0] == 0)
    fail_on_every_rank("no training rows: every feature row is at or after testSplitStart " +
                       split_text);
  if (split_rows[1] == 0)
    fail_on_every_rank("no test rows: every feature row is before testSplitStart " + split_text);

  phase("encoding");
  TrainOutcome outcome;
  outcome.train = encode_split(encoder, train_rows, threads);
  outcome.test = encode_split(encoder, test_rows, threads);
  const size_t cols = static_cast<size_t>(encoder.num_features());

  std::vector<uint8_t> labels(train_rows.size());
  std::vector<uint64_t> keys(train_rows.size());
  for (size_t i = 0; i < train_rows.size(); ++i) {
    labels[i] = static_cast<uint8_t>(train_rows[i].label - 1);
    keys[i] = forest::row_key(train_rows[i].server_ip, train_rows[i].hour);
  }

  phase("growing the forest");
  dist::fault_point(comm, "train-forest");  // a rank failing while the others wait in collectives
  forest::TrainOptions options;
  options.params = config.forest;
  options.threads = threads;
  const Stopwatch grow_started;
  forest::Forest forest = forest::Forest::train({outcome.train.x, train_rows.size(), cols}, labels,
                                                keys, 3, options, comm, &outcome.exchange);
  outcome.train_seconds = grow_started.seconds();

  phase("evaluating");
  BundleMetrics metrics{evaluate_split(forest, outcome.train, cols, threads, comm),
                        evaluate_split(forest, outcome.test, cols, threads, comm)};

  ModelInfo info;
  static_cast<TrainingSpec&>(info) = config;
  info.train_rows = split_rows[0];
  info.test_rows = split_rows[1];
  info.data_accounting = request.data_accounting;
  outcome.model.emplace(std::move(info), std::move(encoder), std::move(forest), std::move(metrics));
  outcome.total_seconds = started.seconds();
  return outcome;
}

void export_matrices(const TrainOutcome& outcome, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_data("cannot create " + dir.string() + ": " + ec.message());
  const auto& names = outcome.model->encoder().feature_names();
  auto write = [&](const std::string& stem, const EncodedSplit& split) {
    const fs::path x_path = dir / (stem + "_X.csv");
    const fs::path y_path = dir / (stem + "_y.csv");
    std::ofstream x(x_path, std::ios::binary);
    std::ofstream y(y_path, std::ios::binary);
    if (!x || !y) fail_data("cannot write matrices into " + dir.string());
    std::string line;
    for (size_t c = 0; c < names.size(); ++c) {
      if (c) line += ',';
      line += '"' + names[c] + '"';
    }
    x << line << '\n';
    y << outcome.model->schema().of(ColumnRole::kLabel).name << '\n';
    const size_t cols = names.size();
    for (size_t r = 0; r < split.rows(); ++r) {
      line.clear();
      for (size_t c = 0; c < cols; ++c) {
        if (c) line += ',';
        // shortest text that reads back to the same float
        char buf[32];
        const auto res = std::to_chars(buf, buf + sizeof buf, split.x[r * cols + c]);
        line.append(buf, res.ptr);
      }
      x << line << '\n';
      y << split.y[r] << '\n';
    }
    if (!x.flush() || !y.flush()) fail_data("cannot write matrices into " + dir.string());
  };
  write("train", outcome.train);
  write("test", outcome.test);
}

}  // namespace loadcast
