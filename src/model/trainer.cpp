#include "model/trainer.h"

#include <array>
#include <charconv>
#include <deque>
#include <fstream>

#include "common/error.h"
#include "common/stopwatch.h"
#include "common/thread_pool.h"
#include "dist/job.h"
#include "forest/binning.h"
#include "forest/sampling.h"
#include "forest/training_set.h"

namespace loadcast {
namespace fs = std::filesystem;

namespace {

bool before_split(const Config& config, const FeatureRow& row) {
  return static_cast<TimeNs>(row.hour) * kNanosPerSecond < config.test_split_start;
}

// Which set a row goes to: training, the validation tail that early
// stopping watches (the last validationDays before testSplitStart), or test.
enum Part { kTrainPart, kValidationPart, kTestPart };

bool stops_early(const Config& config) {
  return config.algorithm == forest::Algorithm::kGradientBoostedTrees &&
         config.boosting.early_stopping_rounds > 0;
}

Part part_of(const Config& config, const FeatureRow& row) {
  if (!before_split(config, row)) return kTestPart;
  if (!stops_early(config)) return kTrainPart;
  const TimeNs validation_start =
      config.test_split_start -
      static_cast<TimeNs>(config.boosting.validation_days) * 86400 * kNanosPerSecond;
  return static_cast<TimeNs>(row.hour) * kNanosPerSecond < validation_start ? kTrainPart
                                                                            : kValidationPart;
}

// Metrics over every rank's rows: the confusion counts are summed exactly.
Metrics evaluate_set(const forest::Forest& forest, const forest::TrainingSet& set, int threads,
                     dist::Communicator& comm) {
  // A million rows at a time: the probabilities of every row are never held.
  constexpr size_t kRowsPerStep = size_t{1} << 20;
  std::vector<int> truth;
  std::vector<int> predicted;
  std::array<std::array<int64_t, kNumLabels>, kNumLabels> confusion{};
  for (size_t begin = 0; begin < set.rows(); begin += kRowsPerStep) {
    const size_t end = std::min(set.rows(), begin + kRowsPerStep);
    const auto best = forest::Forest::argmax(forest.predict_proba(set, begin, end, threads),
                                             forest.num_classes());
    truth.resize(best.size());
    predicted.resize(best.size());
    for (size_t i = 0; i < best.size(); ++i) {
      truth[i] = set.labels()[begin + i] + 1;
      predicted[i] = best[i] + 1;
    }
    const auto step = evaluate(truth, predicted).confusion;
    for (int t = 0; t < kNumLabels; ++t)
      for (int p = 0; p < kNumLabels; ++p) confusion[t][p] += step[t][p];
  }
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

// The thresholds of every feature from the sampled training rows (the
// quantile sample of forest/binning.h): numeric features from their values,
// one-hot features from how often their code is the row's.
std::vector<forest::FeatureSplits> place_thresholds(const Encoder& encoder,
                                                    std::span<const FeatureRow* const> sampled,
                                                    int max_bins, int threads,
                                                    dist::Communicator& comm) {
  const auto& blocks = encoder.one_hot_blocks();
  const auto numerics = static_cast<size_t>(encoder.num_numeric());
  std::vector<float> values(numerics * sampled.size());  // feature-major
  std::vector<uint16_t> codes(blocks.size() * sampled.size());
  parallel_for(sampled.size(), threads, 1024, [&](size_t begin, size_t end) {
    std::vector<float> numeric(numerics);
    std::vector<uint16_t> code(blocks.size());
    for (size_t r = begin; r < end; ++r) {
      encoder.transform_compact(*sampled[r], numeric, code);
      for (size_t i = 0; i < numerics; ++i) values[i * sampled.size() + r] = numeric[i];
      for (size_t b = 0; b < blocks.size(); ++b) codes[b * sampled.size() + r] = code[b];
    }
  });
  std::vector<forest::ValueCounts> local(static_cast<size_t>(encoder.num_features()));
  std::vector<int> numeric_features;
  size_t block = 0;
  for (int f = 0; f < encoder.num_features(); ++f) {
    if (block < blocks.size() && f == blocks[block].first) {
      f += blocks[block++].width - 1;
    } else {
      numeric_features.push_back(f);
    }
  }
  parallel_for(numerics, threads, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const auto column = std::span(values).subspan(i * sampled.size(), sampled.size());
      std::sort(column.begin(), column.end());
      local[static_cast<size_t>(numeric_features[i])].add_sorted(column);
    }
  });
  for (size_t b = 0; b < blocks.size(); ++b) {
    std::vector<int64_t> ones(static_cast<size_t>(blocks[b].width) + 1, 0);
    for (size_t r = 0; r < sampled.size(); ++r) ++ones[codes[b * sampled.size() + r]];
    for (int j = 0; j < blocks[b].width; ++j) {
      const auto n = static_cast<int64_t>(sampled.size());
      local[static_cast<size_t>(blocks[b].first) + static_cast<size_t>(j)].add_binary(n - ones[j],
                                                                                      ones[j]);
    }
  }
  return forest::find_splits(std::move(local), max_bins, threads, comm);
}

}  // namespace

TrainOutcome train_model(const Config& config, std::span<const FeatureRow> rows,
                         const TrainRequest& request) {
  return train_model(config, passes_over(rows), request);
}

TrainOutcome train_model(const Config& config, const FeatureRowPasses& rows,
                         const TrainRequest& request) {
  const Stopwatch started;
  auto phase = [&](std::string_view name) {
    if (request.on_phase) request.on_phase(name);
  };
  const int threads = std::max(1, request.threads);
  std::unique_ptr<dist::Communicator> local;
  if (!request.comm) local = dist::make_local_communicator();
  dist::Communicator& comm = request.comm ? *request.comm : *local;
  forest::TrainOptions options;
  options.params = config.forest;
  options.threads = threads;
  const bool boosted = config.algorithm == forest::Algorithm::kGradientBoostedTrees;

  // Pass 1: the labels, the split by time (train rows are strictly before
  // testSplitStart), the categories and the scaler's means.
  phase("reading the feature table, counting the categories");
  EncoderFit fit(*request.schema);
  TrainOutcome outcome;
  std::vector<FeatureRow> held;
  size_t held_bytes = 0;
  bool holding = true;
  rows([&](const FeatureRow& row) {
    if (holding) {
      held_bytes += sizeof(FeatureRow) + (row.server_ip.size() > 15 ? row.server_ip.size() : 0);
      if (held_bytes <= request.held_rows_bytes) {
        held.push_back(row);
      } else {
        holding = false;
        held = {};
      }
    }
    if (row.label < 1 || row.label > 3) {
      fail_data("feature row " + row.server_ip + "_" + format_timestamp(row.hour) + ": label " +
                std::to_string(row.label) + " is not 1, 2 or 3");
    }
    fit.count(row);
    const Part part = part_of(config, row);
    ++(part == kTestPart ? outcome.test_rows : outcome.train_rows);
    if (part == kValidationPart) ++outcome.validation_rows;
  });
  std::array<int64_t, 3> split_rows{outcome.train_rows, outcome.test_rows, outcome.validation_rows};
  comm.allreduce_sum(split_rows);
  if (split_rows[0] + split_rows[1] == 0) fail_on_every_rank("the feature table has no rows");
  fit.finish_counts(comm);
  const std::string split_text = format_timestamp(seconds_of(config.test_split_start));
  if (split_rows[0] == 0)
    fail_on_every_rank("no training rows: every feature row is at or after testSplitStart " +
                       split_text);
  if (split_rows[1] == 0)
    fail_on_every_rank("no test rows: every feature row is before testSplitStart " + split_text);
  if (stops_early(config) && split_rows[2] == 0)
    fail_on_every_rank("no validation rows for early stopping: no feature row in the " +
                       std::to_string(config.boosting.validation_days) +
                       " days (boosting.validationDays) before testSplitStart " + split_text);
  if (split_rows[0] == split_rows[2])
    fail_on_every_rank(
        "no training rows before the validation tail: every row before "
        "testSplitStart " +
        split_text + " is in its last " + std::to_string(config.boosting.validation_days) +
        " days (boosting.validationDays)");

  // Pass 2: the scaler's deviations, and the quantile sample of the rows
  // that train (not the validation tail).
  phase("fitting the scaler, sampling the rows for the bin thresholds");
  const forest::QuantileSample sample(split_rows[0] - split_rows[2], options.quantile_sample);
  std::deque<FeatureRow> copies;  // of the sampled rows, when the rows are not held
  std::vector<const FeatureRow*> sampled;
  auto take_sample = [&](const FeatureRow& row) {
    if (part_of(config, row) != kTrainPart ||
        !sample.takes(forest::row_key(row.server_ip, row.hour)))
      return;
    sampled.push_back(holding ? &row : &copies.emplace_back(row));
  };
  if (holding) {
    fit.deviate(held, threads);
    for (const FeatureRow& row : held) take_sample(row);
  } else {
    rows([&](const FeatureRow& row) {
      fit.deviate(row);
      take_sample(row);
    });
  }
  Encoder encoder = fit.finish(comm);
  std::vector<forest::OneHotBlock> blocks;
  for (const OneHotColumns& b : encoder.one_hot_blocks()) blocks.push_back({b.first, b.width});
  const int max_bins = boosted ? config.boosting.max_bins : options.params.max_bins;
  auto splits = place_thresholds(encoder, sampled, max_bins, threads, comm);
  sampled = {};
  copies = {};

  // Pass 3: every row binned into the compact set of its part.
  phase("binning the rows");
  std::array<forest::TrainingSet, 3> sets{forest::TrainingSet(splits, blocks),
                                          forest::TrainingSet(splits, blocks),
                                          forest::TrainingSet(std::move(splits), blocks)};
  const auto numerics = static_cast<size_t>(encoder.num_numeric());
  auto bin_into = [&](forest::TrainingSet& set, size_t r, const FeatureRow& row,
                      std::vector<float>& numeric, std::vector<uint16_t>& codes) {
    encoder.transform_compact(row, numeric, codes);
    set.set(r, numeric, codes, static_cast<uint8_t>(row.label - 1),
            forest::row_key(row.server_ip, row.hour));
  };
  if (holding) {
    // Each held row's part and place in its set, then the rows binned in parallel.
    std::vector<uint32_t> place(held.size());
    std::vector<uint8_t> part(held.size());
    std::array<size_t, 3> count{};
    for (size_t i = 0; i < held.size(); ++i) {
      part[i] = static_cast<uint8_t>(part_of(config, held[i]));
      place[i] = static_cast<uint32_t>(count[part[i]]++);
    }
    for (size_t p = 0; p < sets.size(); ++p) sets[p].resize(count[p]);
    parallel_for(held.size(), threads, 4096, [&](size_t begin, size_t end) {
      std::vector<float> numeric(numerics);
      std::vector<uint16_t> codes(blocks.size());
      for (size_t i = begin; i < end; ++i)
        bin_into(sets[part[i]], place[i], held[i], numeric, codes);
    });
  } else {
    sets[kTrainPart].reserve(static_cast<size_t>(outcome.train_rows - outcome.validation_rows));
    sets[kValidationPart].reserve(static_cast<size_t>(outcome.validation_rows));
    sets[kTestPart].reserve(static_cast<size_t>(outcome.test_rows));
    std::vector<float> numeric(numerics);
    std::vector<uint16_t> codes(blocks.size());
    rows([&](const FeatureRow& row) {
      forest::TrainingSet& set = sets[part_of(config, row)];
      set.resize(set.rows() + 1);
      bin_into(set, set.rows() - 1, row, numeric, codes);
    });
  }
  const forest::TrainingSet& train_set = sets[kTrainPart];
  const forest::TrainingSet& test_set = sets[kTestPart];
  const size_t read_rows = sets[0].rows() + sets[1].rows() + sets[2].rows();
  if (static_cast<int64_t>(train_set.rows() + sets[kValidationPart].rows()) != outcome.train_rows ||
      static_cast<int64_t>(test_set.rows()) != outcome.test_rows)
    fail_data("the feature table changed while it was read (" + std::to_string(read_rows) +
              " rows, first " + std::to_string(outcome.train_rows + outcome.test_rows) + ")");
  held = {};
  outcome.set_bytes = read_rows * (train_set.row_bytes() + 9);

  phase(boosted ? "boosting the trees" : "growing the forest");
  dist::fault_point(comm, "train-forest");  // a rank failing while the others wait in collectives
  const Stopwatch grow_started;
  forest::Forest forest =
      boosted
          ? forest::Forest::boost(train_set, &sets[kValidationPart], 3, {config.boosting, threads},
                                  comm, &outcome.exchange, &outcome.boosting)
          : forest::Forest::train(train_set, 3, options, comm, &outcome.exchange);
  outcome.train_seconds = grow_started.seconds();

  phase("evaluating");
  BundleMetrics metrics{evaluate_set(forest, train_set, threads, comm),
                        evaluate_set(forest, test_set, threads, comm)};

  ModelInfo info;
  static_cast<TrainingSpec&>(info) = config;
  info.train_rows = split_rows[0];
  info.test_rows = split_rows[1];
  info.data_accounting = request.data_accounting;
  outcome.model.emplace(std::move(info), std::move(encoder), std::move(forest), std::move(metrics));
  outcome.total_seconds = started.seconds();
  return outcome;
}

void export_matrices(const Model& model, const Config& config, const FeatureRowPasses& rows,
                     const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail_data("cannot create " + dir.string() + ": " + ec.message());
  const auto& names = model.encoder().feature_names();
  struct Matrix {
    std::ofstream x;
    std::ofstream y;
  };
  std::array<Matrix, 2> files;  // train, test
  std::string line;
  for (size_t c = 0; c < names.size(); ++c) {
    if (c) line += ',';
    line += '"' + names[c] + '"';
  }
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string stem = i == 0 ? "train" : "test";
    files[i].x.open(dir / (stem + "_X.csv"), std::ios::binary);
    files[i].y.open(dir / (stem + "_y.csv"), std::ios::binary);
    if (!files[i].x || !files[i].y) fail_data("cannot write matrices into " + dir.string());
    files[i].x << line << '\n';
    files[i].y << model.schema().of(ColumnRole::kLabel).name << '\n';
  }
  std::vector<float> x(names.size());
  rows([&](const FeatureRow& row) {
    model.encoder().transform(row, x);
    line.clear();
    for (size_t c = 0; c < x.size(); ++c) {
      if (c) line += ',';
      // shortest text that reads back to the same float
      char buf[32];
      const auto res = std::to_chars(buf, buf + sizeof buf, x[c]);
      line.append(buf, res.ptr);
    }
    Matrix& m = files[before_split(config, row) ? 0 : 1];
    m.x << line << '\n';
    m.y << row.label << '\n';
  });
  for (Matrix& m : files) {
    if (!m.x.flush() || !m.y.flush()) fail_data("cannot write matrices into " + dir.string());
  }
}

}  // namespace loadcast
