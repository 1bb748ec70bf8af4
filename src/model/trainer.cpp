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

bool stops_early(const Config& config) {
  return config.algorithm == forest::Algorithm::kGradientBoostedTrees &&
         config.boosting.early_stopping_rounds > 0;
}

// Which set a row goes to: training, the validation tail that early
// stopping watches (the last validationDays before testSplitStart), test,
// or none (at or after rows_end).
constexpr int kNoPart = 3;

int part_of(const Config& config, TimeNs rows_end, const FeatureRow& row) {
  const TimeNs time = static_cast<TimeNs>(row.hour) * kNanosPerSecond;
  if (time >= rows_end) return kNoPart;
  if (time >= config.test_split_start) return kTestRows;
  if (!stops_early(config)) return kTrainRows;
  const TimeNs validation_start =
      config.test_split_start -
      static_cast<TimeNs>(config.boosting.validation_days) * 86400 * kNanosPerSecond;
  return time < validation_start ? kTrainRows : kValidationRows;
}

}  // namespace

Metrics evaluate_rows(const forest::Forest& forest, const forest::TrainingSet& set, int threads,
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

namespace {

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

// The communicator of a request: its own, or one for this process alone.
class RequestComm {
 public:
  explicit RequestComm(const TrainRequest& request) {
    if (!request.comm) local_ = dist::make_local_communicator();
  }
  dist::Communicator& of(const TrainRequest& request) {
    return request.comm ? *request.comm : *local_;
  }

 private:
  std::unique_ptr<dist::Communicator> local_;
};

}  // namespace

BinnedRows bin_rows(const Config& config, const FeatureRowPasses& rows,
                    const TrainRequest& request) {
  auto phase = [&](std::string_view name) {
    if (request.on_phase) request.on_phase(name);
  };
  const int threads = std::max(1, request.threads);
  RequestComm own(request);
  dist::Communicator& comm = own.of(request);
  const forest::TrainOptions defaults;  // the quantile sample's size
  const bool boosted = config.algorithm == forest::Algorithm::kGradientBoostedTrees;
  auto part = [&](const FeatureRow& row) { return part_of(config, request.rows_end, row); };

  // Pass 1: the labels, the split by time (train rows are strictly before
  // testSplitStart), the categories and the scaler's means.
  phase("reading the feature table, counting the categories");
  EncoderFit fit(*request.schema);
  std::array<int64_t, 3> counts{};
  std::vector<FeatureRow> copied;
  size_t held_bytes = 0;
  bool holding = !request.rows_are_in_memory;
  auto count = [&](const FeatureRow& row) {
    const int p = part(row);
    if (p == kNoPart) return;
    if (row.label < 1 || row.label > 3) {
      fail_data("feature row " + row.server_ip + "_" + format_timestamp(row.hour) + ": label " +
                std::to_string(row.label) + " is not 1, 2 or 3");
    }
    fit.count(row);
    ++counts[static_cast<size_t>(p)];
  };
  if (request.rows_are_in_memory) {
    for (const FeatureRow& row : request.rows_in_memory) count(row);
  } else {
    rows([&](const FeatureRow& row) {
      if (holding && part(row) != kNoPart) {
        held_bytes += sizeof(FeatureRow) + (row.server_ip.size() > 15 ? row.server_ip.size() : 0);
        if (held_bytes <= request.held_rows_bytes) {
          copied.push_back(row);
        } else {
          holding = false;
          copied = {};
        }
      }
      count(row);
    });
  }
  // The rows of passes 2 and 3 when they are in memory (given or kept).
  const bool in_memory = request.rows_are_in_memory || holding;
  const std::span<const FeatureRow> held =
      request.rows_are_in_memory ? request.rows_in_memory : std::span<const FeatureRow>(copied);
  std::array<int64_t, 3> global = counts;
  comm.allreduce_sum(global);
  const int64_t train_rows = global[kTrainRows] + global[kValidationRows];
  if (train_rows + global[kTestRows] == 0) fail_on_every_rank("the feature table has no rows");
  fit.finish_counts(comm);
  const std::string split_text = format_timestamp(seconds_of(config.test_split_start));
  if (train_rows == 0)
    fail_on_every_rank("no training rows: every feature row is at or after testSplitStart " +
                       split_text);
  if (global[kTestRows] == 0)
    fail_on_every_rank("no test rows: every feature row is before testSplitStart " + split_text);
  if (stops_early(config) && global[kValidationRows] == 0)
    fail_on_every_rank("no validation rows for early stopping: no feature row in the " +
                       std::to_string(config.boosting.validation_days) +
                       " days (boosting.validationDays) before testSplitStart " + split_text);
  if (global[kTrainRows] == 0)
    fail_on_every_rank(
        "no training rows before the validation tail: every row before "
        "testSplitStart " +
        split_text + " is in its last " + std::to_string(config.boosting.validation_days) +
        " days (boosting.validationDays)");

  // Pass 2: the scaler's deviations, and the quantile sample of the rows
  // that train (not the validation tail).
  phase("fitting the scaler, sampling the rows for the bin thresholds");
  const forest::QuantileSample sample(global[kTrainRows], defaults.quantile_sample);
  std::deque<FeatureRow> sample_copies;  // of the sampled rows, when the rows are not in memory
  std::vector<const FeatureRow*> sampled;
  auto take_sample = [&](const FeatureRow& row) {
    if (part(row) != kTrainRows || !sample.takes(forest::row_key(row.server_ip, row.hour))) return;
    sampled.push_back(in_memory ? &row : &sample_copies.emplace_back(row));
  };
  if (in_memory) {
    fit.deviate(held, threads, [&](const FeatureRow& row) { return part(row) != kNoPart; });
    for (const FeatureRow& row : held) take_sample(row);
  } else {
    rows([&](const FeatureRow& row) {
      if (part(row) == kNoPart) return;
      fit.deviate(row);
      take_sample(row);
    });
  }
  Encoder encoder = fit.finish(comm);
  std::vector<forest::OneHotBlock> blocks;
  for (const OneHotColumns& b : encoder.one_hot_blocks()) blocks.push_back({b.first, b.width});
  const int max_bins = boosted ? config.boosting.max_bins : config.forest.max_bins;
  auto splits = place_thresholds(encoder, sampled, max_bins, threads, comm);
  sampled = {};
  sample_copies = {};

  // Pass 3: every row binned into the compact set of its part.
  phase("binning the rows");
  BinnedRows out{std::move(encoder), {}, counts, global, {}};
  for (int p = 0; p < 3; ++p) out.sets.emplace_back(splits, blocks);
  out.hours.fill({std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
  const auto numerics = static_cast<size_t>(out.encoder.num_numeric());
  auto bin_into = [&](forest::TrainingSet& set, size_t r, const FeatureRow& row,
                      std::vector<float>& numeric, std::vector<uint16_t>& codes) {
    out.encoder.transform_compact(row, numeric, codes);
    set.set(r, numeric, codes, static_cast<uint8_t>(row.label - 1),
            forest::row_key(row.server_ip, row.hour));
  };
  auto note_hour = [&](int p, const FeatureRow& row) {
    auto& [first, last] = out.hours[static_cast<size_t>(p)];
    first = std::min<int64_t>(first, row.hour);
    last = std::max<int64_t>(last, row.hour);
  };
  if (in_memory) {
    // Each row's part and place in its set, then the rows binned in parallel.
    std::vector<uint32_t> place(held.size());
    std::vector<uint8_t> part_index(held.size());
    std::array<size_t, 4> placed{};
    for (size_t i = 0; i < held.size(); ++i) {
      const int p = part(held[i]);
      part_index[i] = static_cast<uint8_t>(p);
      place[i] = static_cast<uint32_t>(placed[static_cast<size_t>(p)]++);
      if (p != kNoPart) note_hour(p, held[i]);
    }
    for (size_t p = 0; p < out.sets.size(); ++p) out.sets[p].resize(placed[p]);
    parallel_for(held.size(), threads, 4096, [&](size_t begin, size_t end) {
      std::vector<float> numeric(numerics);
      std::vector<uint16_t> codes(blocks.size());
      for (size_t i = begin; i < end; ++i)
        if (part_index[i] != kNoPart)
          bin_into(out.sets[part_index[i]], place[i], held[i], numeric, codes);
    });
  } else {
    for (size_t p = 0; p < out.sets.size(); ++p)
      out.sets[p].reserve(static_cast<size_t>(counts[p]));
    std::vector<float> numeric(numerics);
    std::vector<uint16_t> codes(blocks.size());
    rows([&](const FeatureRow& row) {
      const int p = part(row);
      if (p == kNoPart) return;
      note_hour(p, row);
      forest::TrainingSet& set = out.sets[static_cast<size_t>(p)];
      set.resize(set.rows() + 1);
      bin_into(set, set.rows() - 1, row, numeric, codes);
    });
  }
  for (size_t p = 0; p < out.sets.size(); ++p) {
    if (static_cast<int64_t>(out.sets[p].rows()) != counts[p])
      fail_data("the feature table changed while it was read (" +
                std::to_string(out.sets[p].rows()) + " rows of a part, first " +
                std::to_string(counts[p]) + ")");
  }
  return out;
}

forest::Forest grow_trees(const Config& config, const BinnedRows& rows, const TrainRequest& request,
                          TrainOutcome& outcome) {
  RequestComm own(request);
  dist::Communicator& comm = own.of(request);
  const int threads = std::max(1, request.threads);
  dist::fault_point(comm, "train-forest");  // a rank failing while the others wait in collectives
  const Stopwatch started;
  forest::TrainOptions options;
  options.params = config.forest;
  options.threads = threads;
  forest::Forest forest =
      config.algorithm == forest::Algorithm::kGradientBoostedTrees
          ? forest::Forest::boost(rows.sets[kTrainRows], &rows.sets[kValidationRows], kNumLabels,
                                  {config.boosting, threads}, comm, &outcome.exchange,
                                  &outcome.boosting)
          : forest::Forest::train(rows.sets[kTrainRows], kNumLabels, options, comm,
                                  &outcome.exchange);
  outcome.train_seconds = started.seconds();
  return forest;
}

TrainOutcome train_model(const Config& config, std::span<const FeatureRow> rows,
                         const TrainRequest& request) {
  TrainRequest in_memory = request;
  in_memory.rows_in_memory = rows;
  in_memory.rows_are_in_memory = true;
  return train_model(config, passes_over(rows), in_memory);
}

TrainOutcome train_model(const Config& config, const FeatureRowPasses& rows,
                         const TrainRequest& request) {
  const Stopwatch started;
  RequestComm own(request);
  dist::Communicator& comm = own.of(request);
  const int threads = std::max(1, request.threads);
  BinnedRows binned = bin_rows(config, rows, request);
  TrainOutcome outcome;
  outcome.train_rows = binned.rows[kTrainRows] + binned.rows[kValidationRows];
  outcome.test_rows = binned.rows[kTestRows];
  outcome.validation_rows = binned.rows[kValidationRows];
  size_t read_rows = 0;
  for (const auto& set : binned.sets) read_rows += set.rows();
  outcome.set_bytes = read_rows * (binned.sets[kTrainRows].row_bytes() + 9);

  if (request.on_phase)
    request.on_phase(config.algorithm == forest::Algorithm::kGradientBoostedTrees
                         ? "boosting the trees"
                         : "growing the forest");
  TrainRequest on_comm = request;
  on_comm.comm = &comm;
  forest::Forest forest = grow_trees(config, binned, on_comm, outcome);

  if (request.on_phase) request.on_phase("evaluating");
  BundleMetrics metrics{evaluate_rows(forest, binned.sets[kTrainRows], threads, comm),
                        evaluate_rows(forest, binned.sets[kTestRows], threads, comm)};

  ModelInfo info;
  static_cast<TrainingSpec&>(info) = config;
  info.train_rows = binned.global_rows[kTrainRows] + binned.global_rows[kValidationRows];
  info.test_rows = binned.global_rows[kTestRows];
  info.data_accounting = request.data_accounting;
  outcome.model.emplace(std::move(info), std::move(binned.encoder), std::move(forest),
                        std::move(metrics));
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
    Matrix& m =
        files[static_cast<TimeNs>(row.hour) * kNanosPerSecond < config.test_split_start ? 0 : 1];
    m.x << line << '\n';
    m.y << row.label << '\n';
  });
  for (Matrix& m : files) {
    if (!m.x.flush() || !m.y.flush()) fail_data("cannot write matrices into " + dir.string());
  }
}

}  // namespace loadcast
