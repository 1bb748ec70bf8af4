// `loadcast tune` as a library call: the folds are whole days before the
// test split and never train on their validation days or later; a fold
// scores exactly what train gives with its split on its rows; the grid and
// the random draws follow the declared space and seed; bad spaces are
// usage errors naming the field; the choice and the refit bundle are the
// same for any thread count, any spread of rows over ranks and whether the
// rows are held or read again.
#include "model/tuning.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/error.h"
#include "dist/job.h"
#include "support/feature_rows.h"
#include "support/thread_communicator.h"

namespace loadcast::tuning_test {

// Twenty days of three servers, the test split at day 17 (CUSTOM window).
Config parsed(const std::string& tuning, const std::string& more = "") {
  return parse_config(
      R"({"dataFile": "in/*.csv", "duration": "CUSTOM", "output": "out",
          "trainBegin": "2016-06-01 00:00:00", "trainEnd": "2016-06-20 23:59:59",
          "testSplitStart": "2016-06-17 00:00:00", "lowThreshold": 150, "highThreshold": 500,
          "forest": {"numTrees": 8, "maxDepth": 5},
          "boosting": {"numRounds": 12, "maxDepth": 3, "earlyStoppingRounds": 2, "validationDays": 1},
          "tuning": )" +
          tuning + more + "}",
      "tune.json");
}

const std::vector<FeatureRow>& rows() {
  static const std::vector<FeatureRow> all = testing::learnable_rows(20);
  return all;
}

TimeNs at(const char* text) { return *parse_timestamp(text); }
TimeNs time_of(int64_t hour) { return static_cast<TimeNs>(hour) * kNanosPerSecond; }

TEST(TuningFolds, AreWholeDaysBeforeTheTestSplitOldestFirst) {
  const auto folds = tuning_folds(parsed(R"({"folds": 3, "foldDays": 2})"));
  ASSERT_EQ(folds.size(), 3u);
  const char* starts[] = {"2016-06-11 00:00:00", "2016-06-13 00:00:00", "2016-06-15 00:00:00"};
  const char* ends[] = {"2016-06-13 00:00:00", "2016-06-15 00:00:00", "2016-06-17 00:00:00"};
  for (size_t f = 0; f < folds.size(); ++f) {
    EXPECT_EQ(folds[f].validation_start, at(starts[f])) << f;
    EXPECT_EQ(folds[f].validation_end, at(ends[f])) << f;
  }
}

TEST(TuningSearch, AGridIsEveryCombinationWithTheLastNameFastest) {
  const auto trials = search_trials(
      parsed(R"({"space": {"forest.numTrees": [4, 8, 12], "forest.maxDepth": [3, 5]}})"));
  ASSERT_EQ(trials.size(), 6u);
  // Names in order: forest.maxDepth, then forest.numTrees (fastest).
  EXPECT_EQ(trials[0].values, (nlohmann::json{{"forest.maxDepth", 3}, {"forest.numTrees", 4}}));
  EXPECT_EQ(trials[1].values, (nlohmann::json{{"forest.maxDepth", 3}, {"forest.numTrees", 8}}));
  EXPECT_EQ(trials[5].values, (nlohmann::json{{"forest.maxDepth", 5}, {"forest.numTrees", 12}}));
  std::set<std::string> distinct;
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].index, static_cast<int>(i));
    distinct.insert(trials[i].values.dump());
  }
  EXPECT_EQ(distinct.size(), 6u);
  // No space: the configuration as given, once.
  const auto alone = search_trials(parsed("{}"));
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_TRUE(alone[0].values.empty());
}

TEST(TuningSearch, RandomDrawsComeFromTheSeedAndStayInTheirRanges) {
  const std::string space =
      R"({"search": "random", "trials": 12, "space": {"forest.maxDepth": {"min": 2, "max": 9},
          "boosting.learningRate": {"min": 0.01, "max": 0.3, "log": true},
          "forest.featureSubsetStrategy": ["sqrt", "all", "log2"]}})";
  const Config config = parsed(space);
  const auto trials = search_trials(config);
  ASSERT_EQ(trials.size(), 12u);
  std::set<std::string> distinct, strategies;
  std::set<int> depths;
  for (const Trial& t : trials) {
    distinct.insert(t.values.dump());
    ASSERT_TRUE(t.values["forest.maxDepth"].is_number_integer()) << t.values.dump();
    const int depth = t.values["forest.maxDepth"];
    EXPECT_GE(depth, 2);
    EXPECT_LE(depth, 9);
    depths.insert(depth);
    const double rate = t.values["boosting.learningRate"];
    EXPECT_GE(rate, 0.01);
    EXPECT_LE(rate, 0.3);
    strategies.insert(t.values["forest.featureSubsetStrategy"]);
    // Each draw is a configuration its declarations accept.
    const Config applied = with_training_values(config, t.values, {"t", ExitCode::kUsage});
    EXPECT_EQ(applied.forest.max_depth, depth);
    EXPECT_EQ(applied.boosting.learning_rate, rate);
  }
  EXPECT_EQ(distinct.size(), 12u);
  EXPECT_GT(depths.size(), 3u);
  EXPECT_EQ(strategies.size(), 3u);
  // The same seed draws the same trials; another seed others.
  const auto again = search_trials(parsed(space));
  for (size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(again[i].values, trials[i].values);
  Config reseeded = config;
  reseeded.tuning.seed = 7;
  EXPECT_NE(search_trials(reseeded)[0].values, trials[0].values);
}

TEST(TuningSpace, BadSpacesAreUsageErrorsNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"space": {"lowThreshold": [1]}})", "'lowThreshold' is not a training field"},
      {R"({"space": {"forest.nope": [1]}})", "'forest.nope' is not a training field"},
      {R"({"space": {"forest.maxDepth": [0]}})",
       "(tuning.space): field 'forest.maxDepth' has an impossible value 0 (allowed: 1 to 30)"},
      {R"({"space": {"algorithm": ["extraTrees"]}})", "field 'algorithm' has an impossible value"},
      {R"({"space": {"forest.maxDepth": []}})", "a list of at least one value"},
      {R"({"space": {"forest.maxDepth": {"min": 2, "max": 5}}})", "a grid search needs a list"},
      {R"({"search": "random", "space": {"forest.featureSubsetStrategy": {"min": 1, "max": 2}}})",
       "give it a list of values, not a range"},
      {R"({"search": "random", "space": {"forest.maxDepth": {"min": 5, "max": 2}}})",
       "with a <= b"},
      {R"({"folds": 0})", "field 'tuning.folds' has an impossible value 0"},
  };
  for (const auto& [tuning, expected] : cases) {
    try {
      parsed(tuning);
      ADD_FAILURE() << tuning << " was accepted";
    } catch (const Failure& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << tuning;
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos)
          << tuning << ": " << e.what();
    }
  }
}

const std::string kTwoByTwo =
    R"({"space": {"algorithm": ["randomForest", "gradientBoostedTrees"], "forest.maxDepth": [3, 6]}})";

TEST(Tune, FoldsTrainOnlyOnRowsBeforeTheirValidationDays) {
  const Config config = parsed(kTwoByTwo);
  TrainRequest request;
  request.threads = 2;
  const TuningOutcome outcome = tune_model(config, passes_over(rows()), request);
  ASSERT_EQ(outcome.trials.size(), 4u);
  for (const TrialResult& t : outcome.trials) {
    ASSERT_EQ(t.folds.size(), 3u);
    for (size_t f = 0; f < t.folds.size(); ++f) {
      const FoldResult& r = t.folds[f];
      const TuningFold& fold = outcome.folds[f];
      int64_t before = 0, inside = 0;
      for (const FeatureRow& row : rows()) {
        before += time_of(row.hour) < fold.validation_start;
        inside +=
            time_of(row.hour) >= fold.validation_start && time_of(row.hour) < fold.validation_end;
      }
      EXPECT_LT(time_of(r.last_train_hour), fold.validation_start) << "fold " << f;
      EXPECT_EQ(time_of(r.first_train_hour), at("2016-06-01 00:00:00"));
      EXPECT_GE(time_of(r.first_validation_hour), fold.validation_start) << "fold " << f;
      EXPECT_LT(time_of(r.last_validation_hour), fold.validation_end) << "fold " << f;
      EXPECT_EQ(r.train_rows, before) << "fold " << f;
      EXPECT_EQ(r.validation_rows, inside) << "fold " << f;
      EXPECT_EQ(inside, 3 * 2 * 24);
      EXPECT_EQ(r.metrics.rows, inside);
    }
  }
  // Boosted trials stop early on the last validationDays before each fold.
  EXPECT_GT(outcome.trials[2].folds[0].boosting_rounds_kept, 0);
  EXPECT_EQ(outcome.trials[0].folds[0].boosting_rounds_kept, 0);
}

TEST(Tune, AFoldScoresWhatTrainGivesWithItsSplitOnItsRows) {
  const Config config = parsed(kTwoByTwo);
  const TuningOutcome outcome = tune_model(config, passes_over(rows()), {});
  for (const int t : {1, 2}) {
    for (size_t f = 0; f < outcome.folds.size(); ++f) {
      Config alone =
          with_training_values(config, outcome.trials[t].trial.values, {"t", ExitCode::kUsage});
      alone.test_split_start = outcome.folds[f].validation_start;
      std::vector<FeatureRow> window;
      for (const FeatureRow& row : rows())
        if (time_of(row.hour) < outcome.folds[f].validation_end) window.push_back(row);
      const Metrics test = train_model(alone, window, {}).model->metrics().test;
      const Metrics& fold = outcome.trials[t].folds[f].metrics;
      EXPECT_EQ(fold.confusion, test.confusion) << "trial " << t << " fold " << f;
      EXPECT_EQ(fold.accuracy, test.accuracy) << "trial " << t << " fold " << f;
    }
  }
}

TEST(Tune, TheBestMeanIsRefitOnEveryTrainingRow) {
  const Config config = parsed(kTwoByTwo);
  const TuningOutcome outcome = tune_model(config, passes_over(rows()), {});
  const TrialResult& best = outcome.trials[static_cast<size_t>(outcome.best)];
  for (const TrialResult& t : outcome.trials) {
    double sum = 0;
    for (const FoldResult& r : t.folds) sum += r.metrics.accuracy;
    EXPECT_DOUBLE_EQ(t.score, sum / 3);
    EXPECT_LE(t.score, best.score);
    if (t.trial.index < best.trial.index) {
      EXPECT_LT(t.score, best.score);  // the first best wins
    }
  }
  EXPECT_EQ(outcome.best_config.test_split_start, config.test_split_start);
  const Config expected = with_training_values(config, best.trial.values, {"t", ExitCode::kUsage});
  const TrainOutcome direct = train_model(expected, rows(), {});
  EXPECT_EQ(outcome.refit.model->forest().to_json().dump(),
            direct.model->forest().to_json().dump());
  EXPECT_EQ(outcome.refit.model->metrics().test.confusion, direct.model->metrics().test.confusion);
}

// What a tuning run decides, for comparison across runs.
struct Decision {
  std::vector<double> scores;
  int best = -1;
  std::string forest;
  bool operator==(const Decision&) const = default;
};

Decision decision_of(const TuningOutcome& o) {
  Decision d;
  for (const TrialResult& t : o.trials) d.scores.push_back(t.score);
  d.best = o.best;
  d.forest = o.refit.model->forest().to_json().dump();
  return d;
}

TEST(Tune, SameDecisionForAnyThreadCountSpreadOverRanksOrRereadRows) {
  const Config config = parsed(
      R"({"search": "random", "trials": 3, "space": {"algorithm": ["randomForest", "gradientBoostedTrees"],
          "forest.maxBins": [8, 32], "boosting.subsample": {"min": 0.5, "max": 1}}})");
  TrainRequest one;
  one.threads = 1;
  const Decision reference = decision_of(tune_model(config, passes_over(rows()), one));
  TrainRequest two;
  two.threads = 2;
  EXPECT_TRUE(decision_of(tune_model(config, passes_over(rows()), two)) == reference);
  TrainRequest reread;
  reread.held_rows_bytes = 0;  // every binning reads the rows again
  EXPECT_TRUE(decision_of(tune_model(config, passes_over(rows()), reread)) == reference);
  std::vector<Decision> on_ranks(3);
  testing::run_ranks(3, [&](dist::Communicator& comm) {
    std::vector<FeatureRow> mine;
    for (size_t i = 0; i < rows().size(); ++i)
      if (static_cast<int>(i % 3) == comm.rank()) mine.push_back(rows()[i]);
    TrainRequest request;
    request.comm = &comm;
    request.threads = 2;
    on_ranks[static_cast<size_t>(comm.rank())] =
        decision_of(tune_model(config, passes_over(mine), request));
  });
  for (int r = 0; r < 3; ++r)
    EXPECT_TRUE(on_ranks[static_cast<size_t>(r)] == reference) << "rank " << r;
}

TEST(Tune, AFoldWithoutRowsToTrainOnIsAUsageErrorNamingTheFolds) {
  const Config config = parsed(R"({"folds": 9, "foldDays": 2})");
  try {
    tune_model(config, passes_over(rows()), {});
    ADD_FAILURE() << "tuned with a fold before the first row";
  } catch (const Failure& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("tuning fold 1 of 9 has no rows to train on"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("tuning.folds 9 x tuning.foldDays 2"), std::string::npos)
        << e.what();
  }
}

}  // namespace loadcast::tuning_test
