#include "model/tuning.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "common/error.h"
#include "common/hash.h"
#include "common/stopwatch.h"
#include "dist/job.h"

namespace loadcast {

namespace {

using nlohmann::json;

constexpr TimeNs kDay = TimeNs{86400} * kNanosPerSecond;

// A drawn real, kept to four significant digits: trials read as people write them.
double rounded(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return std::strtod(text, nullptr);
}

// Draw `draw`'s value of axis `a`: a uniform pick of a list, or a uniform
// number of a range (integers for integer fields; in log space when asked).
json draw_value(const SearchAxis& axis, uint64_t seed, uint64_t draw, uint64_t a) {
  const uint64_t h = mix64(mix64(mix64(seed) ^ draw) + a);
  if (!axis.is_range()) return axis.values[h % axis.values.size()];
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  if (axis.integral) {
    const auto lo = static_cast<int64_t>(std::ceil(axis.min));
    const auto hi = static_cast<int64_t>(std::floor(axis.max));
    const auto span = static_cast<double>(hi - lo + 1);
    return std::min(hi, lo + static_cast<int64_t>(u * span));
  }
  if (axis.log)
    return rounded(std::exp(std::log(axis.min) + u * (std::log(axis.max) - std::log(axis.min))));
  return rounded(axis.min + u * (axis.max - axis.min));
}

// Every rank's earliest and latest hour of each part.
std::array<std::pair<int64_t, int64_t>, 3> global_hours(const BinnedRows& rows,
                                                        dist::Communicator& comm) {
  std::array<int64_t, 6> mine{};
  for (size_t p = 0; p < 3; ++p) {
    mine[2 * p] = rows.hours[p].first;
    mine[2 * p + 1] = rows.hours[p].second;
  }
  dist::Bytes bytes(sizeof mine);
  std::memcpy(bytes.data(), mine.data(), sizeof mine);
  auto hours = rows.hours;
  for (const dist::Bytes& theirs : comm.allgather(bytes)) {
    std::array<int64_t, 6> other{};
    if (theirs.size() != sizeof other)
      fail_internal("tune: hour ranges differ in size across ranks");
    std::memcpy(other.data(), theirs.data(), sizeof other);
    for (size_t p = 0; p < hours.size(); ++p) {
      hours[p].first = std::min(hours[p].first, other[2 * p]);
      hours[p].second = std::max(hours[p].second, other[2 * p + 1]);
    }
  }
  return hours;
}

// What bin_rows' output depends on beyond the rows: trials alike in these
// share one binning of a fold's rows.
std::pair<int, int> binning_of(const Config& c) {
  const bool boosted = c.algorithm == forest::Algorithm::kGradientBoostedTrees;
  const int tail = boosted && c.boosting.early_stopping_rounds > 0 ? c.boosting.validation_days : 0;
  return {boosted ? c.boosting.max_bins : c.forest.max_bins, tail};
}

double metric_of(const Metrics& m, TuningMetric metric) {
  return metric == TuningMetric::kAccuracy ? m.accuracy : m.f1;
}

}  // namespace

std::vector<TuningFold> tuning_folds(const Config& config) {
  const int k = config.tuning.folds;
  const TimeNs window = static_cast<TimeNs>(config.tuning.fold_days) * kDay;
  std::vector<TuningFold> folds;
  for (int i = 0; i < k; ++i) {
    const TimeNs start = config.test_split_start - static_cast<TimeNs>(k - i) * window;
    folds.push_back({start, start + window});
  }
  return folds;
}

std::vector<Trial> search_trials(const Config& config) {
  const TuningSpec& t = config.tuning;
  std::vector<Trial> trials;
  if (t.space.empty()) return {Trial{}};
  if (t.search == SearchKind::kGrid) {
    size_t count = 1;
    for (const SearchAxis& a : t.space) count *= a.values.size();
    for (size_t i = 0; i < count; ++i) {
      Trial trial{static_cast<int>(i), json::object()};
      size_t rest = i;
      for (size_t a = t.space.size(); a-- > 0;) {  // the last name varies fastest
        const json& values = t.space[a].values;
        trial.values[t.space[a].name] = values[rest % values.size()];
        rest /= values.size();
      }
      trials.push_back(std::move(trial));
    }
    return trials;
  }
  const uint64_t limit = uint64_t{100} * static_cast<uint64_t>(t.trials);
  for (uint64_t draw = 0; draw < limit && trials.size() < static_cast<size_t>(t.trials); ++draw) {
    json values = json::object();
    for (size_t a = 0; a < t.space.size(); ++a)
      values[t.space[a].name] = draw_value(t.space[a], t.seed, draw, a);
    bool repeat = false;
    for (const Trial& earlier : trials) repeat = repeat || earlier.values == values;
    if (!repeat) trials.push_back({static_cast<int>(trials.size()), std::move(values)});
  }
  return trials;
}

TuningOutcome tune_model(const Config& config, const FeatureRowPasses& rows,
                         const TrainRequest& request, const FoldDone& on_fold) {
  const Stopwatch started;
  std::unique_ptr<dist::Communicator> local;
  if (!request.comm) local = dist::make_local_communicator();
  dist::Communicator& comm = request.comm ? *request.comm : *local;
  const int threads = std::max(1, request.threads);
  TuningOutcome out;
  out.folds = tuning_folds(config);
  const std::vector<Trial> trials = search_trials(config);
  const ParamSource source{config.config_path.string() + " (tuning.space)", ExitCode::kUsage};

  // This rank's rows in memory once, when they fit; else every binning reads them again.
  std::vector<FeatureRow> held;
  bool fits = !request.rows_are_in_memory;
  size_t bytes = 0;
  if (fits) {
    rows([&](const FeatureRow& row) {
      if (!fits) return;
      bytes += sizeof(FeatureRow) + (row.server_ip.size() > 15 ? row.server_ip.size() : 0);
      if (bytes > request.held_rows_bytes) {
        fits = false;
        held = {};
      } else {
        held.push_back(row);
      }
    });
  }
  TrainRequest base = request;
  base.comm = &comm;
  base.on_phase = nullptr;
  if (fits) {
    base.rows_in_memory = held;
    base.rows_are_in_memory = true;
  }
  const FeatureRowPasses passes = base.rows_are_in_memory ? passes_over(base.rows_in_memory) : rows;

  // Each fold needs rows to train on and rows to score; said before any work.
  std::vector<int64_t> fold_rows(2 * out.folds.size(), 0);
  passes([&](const FeatureRow& row) {
    const TimeNs time = static_cast<TimeNs>(row.hour) * kNanosPerSecond;
    for (size_t f = 0; f < out.folds.size(); ++f) {
      if (time < out.folds[f].validation_start)
        ++fold_rows[2 * f];
      else if (time < out.folds[f].validation_end)
        ++fold_rows[2 * f + 1];
    }
  });
  comm.allreduce_sum(fold_rows);
  const std::string layout = "tuning.folds " + std::to_string(config.tuning.folds) +
                             " x tuning.foldDays " + std::to_string(config.tuning.fold_days) +
                             " before testSplitStart " +
                             format_timestamp(seconds_of(config.test_split_start));
  for (size_t f = 0; f < out.folds.size(); ++f) {
    const std::string start = format_timestamp(seconds_of(out.folds[f].validation_start));
    const std::string name =
        "tuning fold " + std::to_string(f + 1) + " of " + std::to_string(out.folds.size());
    std::string why;
    if (fold_rows[2 * f] == 0)
      why.append(" has no rows to train on: no feature row before ").append(start);
    else if (fold_rows[2 * f + 1] == 0)
      why.append(" has no validation rows: no feature row in the ")
          .append(std::to_string(config.tuning.fold_days))
          .append(" days from ")
          .append(start);
    if (!why.empty())
      throw dist::CollectiveFailure(ExitCode::kUsage,
                                    std::string(name).append(why).append(" (" + layout + ")"));
  }

  std::vector<Config> configs;
  configs.reserve(trials.size());
  for (const Trial& trial : trials)
    configs.push_back(with_training_values(config, trial.values, source));
  out.trials.resize(trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    out.trials[i].trial = trials[i];
    out.trials[i].folds.resize(out.folds.size());
  }

  for (size_t f = 0; f < out.folds.size(); ++f) {
    // Trials that bin alike, in the order of their first trial.
    std::map<std::pair<int, int>, std::vector<size_t>> groups;
    std::vector<std::pair<int, int>> order;
    for (size_t i = 0; i < configs.size(); ++i) {
      const auto key = binning_of(configs[i]);
      if (!groups.count(key)) order.push_back(key);
      groups[key].push_back(i);
    }
    TrainRequest fold_request = base;
    fold_request.rows_end = out.folds[f].validation_end;
    for (const auto& key : order) {
      Config first = configs[groups[key].front()];
      first.test_split_start = out.folds[f].validation_start;
      const BinnedRows binned = bin_rows(first, passes, fold_request);
      const auto hours = global_hours(binned, comm);
      for (const size_t i : groups[key]) {
        Config trial_config = configs[i];
        trial_config.test_split_start = out.folds[f].validation_start;
        const Stopwatch trial_started;
        TrainOutcome grown;
        const forest::Forest forest = grow_trees(trial_config, binned, fold_request, grown);
        FoldResult r;
        r.metrics = evaluate_rows(forest, binned.sets[kTestRows], threads, comm);
        r.train_rows = binned.global_rows[kTrainRows] + binned.global_rows[kValidationRows];
        r.validation_rows = binned.global_rows[kTestRows];
        r.first_train_hour = std::min(hours[kTrainRows].first, hours[kValidationRows].first);
        r.last_train_hour = std::max(hours[kTrainRows].second, hours[kValidationRows].second);
        r.first_validation_hour = hours[kTestRows].first;
        r.last_validation_hour = hours[kTestRows].second;
        if (!grown.boosting.validation_loss.empty())
          r.boosting_rounds_kept = grown.boosting.best_round;
        r.seconds = trial_started.seconds();
        TrialResult& result = out.trials[i];
        result.folds[f] = r;
        result.seconds += r.seconds;
        if (on_fold) on_fold(result, static_cast<int>(f));
      }
    }
  }

  for (TrialResult& t : out.trials) {
    double sum = 0;
    for (const FoldResult& r : t.folds) sum += metric_of(r.metrics, config.tuning.metric);
    t.score = sum / static_cast<double>(t.folds.size());
  }
  for (size_t i = 1; i < out.trials.size(); ++i)  // the first of equal scores wins
    if (out.trials[i].score > out.trials[static_cast<size_t>(out.best)].score)
      out.best = static_cast<int>(i);

  out.best_config = configs[static_cast<size_t>(out.best)];
  TrainRequest refit = base;
  refit.on_phase = request.on_phase;
  out.refit = train_model(out.best_config, passes, refit);
  out.seconds = started.seconds();
  return out;
}

}  // namespace loadcast
