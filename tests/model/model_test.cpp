// The model bundle: train -> save -> load gives the same predictions, the
// loader checks the format version, failures name what is wrong.
#include "model/model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/error.h"
#include "common/time.h"
#include "dist/job.h"
#include "model/trainer.h"
#include "support/feature_rows.h"
#include "support/thread_communicator.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

std::vector<FeatureRow> synthetic_rows() { return testing::learnable_rows(12); }

Config test_config() {
  Config config;
  config.data_file = "input/*.csv";
  config.duration = "CUSTOM";
  config.train_begin = *parse_timestamp("2016-06-01 00:00:00");
  config.train_end = *parse_timestamp("2016-06-12 23:59:59");
  config.test_split_start = *parse_timestamp("2016-06-10 00:00:00");
  config.low_threshold = 150;
  config.high_threshold = 500;
  config.forest.num_trees = 15;
  config.forest.max_depth = 6;
  return config;
}

class ModelBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("loadcast_model_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Rows that are not held are read again in each of the three passes, and
// the model is the one grown from rows in memory; each row is kept in a few
// dozen bytes.
TEST_F(ModelBundle, RowsReadInPassesGrowTheModelOfHeldRows) {
  const auto rows = synthetic_rows();
  const TrainOutcome held = train_model(test_config(), rows, {});
  int64_t visits = 0;
  const FeatureRowPasses counted = [&](const FeatureRowVisitor& visit) {
    for (const FeatureRow& row : rows) {
      ++visits;
      visit(row);
    }
  };
  TrainRequest request;
  request.held_rows_bytes = 0;
  const TrainOutcome passes = train_model(test_config(), counted, request);
  EXPECT_EQ(visits, 3 * static_cast<int64_t>(rows.size()));
  EXPECT_EQ(passes.model->forest().to_json().dump(), held.model->forest().to_json().dump());
  EXPECT_EQ(passes.model->encoder().to_json().dump(), held.model->encoder().to_json().dump());
  EXPECT_EQ(passes.model->metrics().test.confusion, held.model->metrics().test.confusion);
  EXPECT_LE(passes.set_bytes, 64 * rows.size());
  visits = 0;
  train_model(test_config(), counted, {});
  EXPECT_EQ(visits, static_cast<int64_t>(rows.size()));  // held: read once
}

TEST_F(ModelBundle, SaveLoadGivesIdenticalPredictions) {
  const auto rows = synthetic_rows();
  TrainRequest request;
  request.threads = 2;
  request.data_accounting = {{"lines", 10}, {"accepted", 9}};
  const TrainOutcome outcome = train_model(test_config(), rows, request);
  const Model& model = *outcome.model;
  EXPECT_EQ(static_cast<size_t>(outcome.train_rows + outcome.test_rows), rows.size());
  EXPECT_EQ(outcome.test_rows, 3 * 3 * 24);
  EXPECT_GT(model.metrics().train.accuracy, 0.9);
  EXPECT_GT(model.metrics().test.accuracy, 0.8);

  const fs::path bundle = dir_ / "model";
  model.save(bundle);
  for (const char* f : {"info.json", "encoder.json", "forest.json", "metrics.json"}) {
    EXPECT_TRUE(fs::is_regular_file(bundle / f)) << f;
  }
  const Model loaded = Model::load(bundle);
  const auto a = model.predict(rows, 1);
  const auto b = loaded.predict(rows, 2);
  ASSERT_EQ(a.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(a[i].label, b[i].label) << i;
    ASSERT_EQ(a[i].probability, b[i].probability) << i;
    ASSERT_GE(a[i].label, 1);
    ASSERT_LE(a[i].label, 3);
  }
  EXPECT_EQ(loaded.forest().to_json().dump(), model.forest().to_json().dump());
  EXPECT_EQ(loaded.info_json(), model.info_json());
  EXPECT_EQ(loaded.metrics().test.confusion, model.metrics().test.confusion);

  std::ifstream in(bundle / "info.json");
  const auto info = nlohmann::json::parse(in);
  EXPECT_EQ(info["bundleFormatVersion"], kBundleFormatVersion);
  EXPECT_EQ(info["testSplitStart"], "2016-06-10 00:00:00");
  EXPECT_EQ(info["featureNames"].size(), static_cast<size_t>(model.encoder().num_features()));
  EXPECT_EQ(info["dataAccounting"]["lines"], 10);
  std::ifstream min(bundle / "metrics.json");
  const auto metrics = nlohmann::json::parse(min);
  EXPECT_TRUE(metrics["train"].contains("weightedPrecision"));
  EXPECT_TRUE(metrics["test"].contains("confusion"));
}

TEST_F(ModelBundle, SameBundleForAnyThreadCount) {
  const auto rows = synthetic_rows();
  TrainRequest one, two;
  one.threads = 1;
  two.threads = 2;
  const auto a = train_model(test_config(), rows, one);
  const auto b = train_model(test_config(), rows, two);
  EXPECT_EQ(a.model->forest().to_json().dump(), b.model->forest().to_json().dump());
}

// Boosted trees with early stopping: the validation tail is the two days
// before testSplitStart; the bundle names the algorithm, loads back to the
// same probabilities (scored both by the flat kernels and tree by tree),
// and ranks grow the single-process model.
TEST_F(ModelBundle, BoostedTreesRoundTripAndGrowAlikeOnRanks) {
  const auto rows = synthetic_rows();
  Config config = test_config();
  config.algorithm = forest::Algorithm::kGradientBoostedTrees;
  config.boosting.num_rounds = 40;
  config.boosting.max_depth = 4;
  config.boosting.early_stopping_rounds = 4;
  TrainRequest request;
  request.threads = 2;
  const TrainOutcome outcome = train_model(config, rows, request);
  const Model& model = *outcome.model;
  EXPECT_EQ(outcome.validation_rows, 3 * 2 * 24);
  EXPECT_EQ(outcome.boosting.validation_rows, 3 * 2 * 24);
  EXPECT_EQ(model.forest().algorithm(), forest::Algorithm::kGradientBoostedTrees);
  EXPECT_EQ(model.forest().trees().size(), static_cast<size_t>(outcome.boosting.best_round) * 3);
  EXPECT_GT(model.metrics().test.accuracy, 0.8);
  const nlohmann::json info = model.info_json();
  EXPECT_EQ(info["algorithm"], "gradientBoostedTrees");
  EXPECT_EQ(info["boosting"]["numRounds"], 40);
  EXPECT_FALSE(info.contains("forest"));

  const fs::path bundle = dir_ / "model";
  model.save(bundle);
  const Model loaded = Model::load(bundle);
  EXPECT_EQ(loaded.forest().to_json().dump(), model.forest().to_json().dump());
  const auto a = model.predict(rows, 1);
  const auto b = loaded.predict(rows, 2);
  const size_t width = static_cast<size_t>(model.encoder().num_features());
  const auto matrix = model.encoder().transform_all(rows, 1);
  const auto walked =
      loaded.forest().predict_proba(forest::MatrixView{matrix, rows.size(), width}, 1);
  std::set<int> labels;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(a[i].label, b[i].label) << i;
    ASSERT_EQ(a[i].probability, b[i].probability) << i;
    for (size_t k = 0; k < 3; ++k) ASSERT_EQ(b[i].probability[k], walked[i * 3 + k]) << i;
    labels.insert(a[i].label);
  }
  EXPECT_EQ(labels.size(), 3u);

  std::vector<std::string> got(3);
  testing::run_ranks(3, [&](dist::Communicator& comm) {
    std::vector<FeatureRow> mine;
    for (size_t i = 0; i < rows.size(); ++i)
      if (static_cast<int>(i % 3) == comm.rank()) mine.push_back(rows[i]);
    TrainRequest on_rank;
    on_rank.comm = &comm;
    got[comm.rank()] = train_model(config, mine, on_rank).model->forest().to_json().dump();
  });
  for (int r = 0; r < 3; ++r) EXPECT_EQ(got[r], model.forest().to_json().dump()) << "rank " << r;

  // A validation tail that swallows every training row is one clear error.
  config.boosting.validation_days = 30;
  try {
    train_model(config, rows, {});
    ADD_FAILURE() << "trained with no rows before the validation tail";
  } catch (const Failure& e) {
    EXPECT_NE(std::string(e.what()).find("boosting.validationDays"), std::string::npos) << e.what();
  }
}

TEST_F(ModelBundle, SaveReplacesAtomically) {
  const auto rows = synthetic_rows();
  auto outcome = train_model(test_config(), rows, {});
  const fs::path bundle = dir_ / "model";
  outcome.model->save(bundle);
  std::ofstream(bundle / "stale.txt") << "old";
  outcome.model->save(bundle);
  EXPECT_FALSE(fs::exists(bundle / "stale.txt"));
  // Nothing is left beside the bundle.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(ModelBundle, LoaderRejectsAnotherVersion) {
  const auto rows = synthetic_rows();
  auto outcome = train_model(test_config(), rows, {});
  const fs::path bundle = dir_ / "model";
  outcome.model->save(bundle);
  nlohmann::json info;
  {
    std::ifstream in(bundle / "info.json");
    info = nlohmann::json::parse(in);
  }
  info["bundleFormatVersion"] = 999;
  std::ofstream(bundle / "info.json") << info.dump();
  try {
    Model::load(bundle);
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    const std::string message = f.what();
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(message.find("format version 999 is not supported"), std::string::npos) << message;
    EXPECT_NE(message.find(bundle.string()), std::string::npos) << message;
  }
}

TEST_F(ModelBundle, LoaderNamesMissingPieces) {
  EXPECT_THROW(Model::load(dir_ / "nothing"), Failure);
  try {
    Model::load(dir_);
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("no info.json"), std::string::npos) << f.what();
  }
}

TEST_F(ModelBundle, MissingSplitSideIsADataError) {
  const auto rows = synthetic_rows();
  Config config = test_config();
  config.test_split_start = *parse_timestamp("2016-07-01 00:00:00");
  try {
    train_model(config, rows, {});
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find("no test rows"), std::string::npos) << f.what();
  }
  config.test_split_start = *parse_timestamp("2016-05-01 00:00:00");
  try {
    train_model(config, rows, {});
    FAIL() << "expected a Failure";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("no training rows"), std::string::npos) << f.what();
  }
  EXPECT_THROW(train_model(config, std::span<const FeatureRow>{}, {}), Failure);
}

// Ranks simulated by threads: each trains on its share (dealt unevenly, one
// rank with no test rows) and gets the single-process model, metrics included.
TEST_F(ModelBundle, SameModelOnRanksAsInOneProcess) {
  const auto rows = synthetic_rows();
  const auto one = train_model(test_config(), rows, {});
  const auto json = [](const Model& m) {
    return m.info_json().dump() + m.encoder().to_json().dump() + m.forest().to_json().dump() +
           m.metrics_json().dump();
  };
  const std::string expected = json(*one.model);
  std::vector<std::string> got(3);
  testing::run_ranks(3, [&](dist::Communicator& comm) {
    std::vector<FeatureRow> mine;
    const TimeNs split = test_config().test_split_start;
    for (size_t i = 0; i < rows.size(); ++i) {
      const bool test_row = static_cast<TimeNs>(rows[i].hour) * kNanosPerSecond >= split;
      const int owner = test_row ? static_cast<int>(i % 2) : static_cast<int>(i % 3);
      if (owner == comm.rank()) mine.push_back(rows[i]);
    }
    TrainRequest request;
    request.comm = &comm;
    const auto outcome = train_model(test_config(), mine, request);
    EXPECT_EQ(static_cast<size_t>(outcome.train_rows + outcome.test_rows), mine.size());
    EXPECT_GT(outcome.exchange.allreduce_bytes, 0);
    got[comm.rank()] = json(*outcome.model);
  });
  for (int r = 0; r < 3; ++r) EXPECT_EQ(got[r], expected) << "rank " << r;
}

TEST_F(ModelBundle, MissingSplitSideOnRanksFailsOnEveryRankAlike) {
  const auto rows = synthetic_rows();
  Config config = test_config();
  config.test_split_start = *parse_timestamp("2016-07-01 00:00:00");
  std::vector<std::string> messages(2);
  testing::run_ranks(2, [&](dist::Communicator& comm) {
    TrainRequest request;
    request.comm = &comm;
    // Rank 1 holds no rows at all; the decision is global.
    const auto mine =
        comm.rank() == 0 ? std::span<const FeatureRow>(rows) : std::span<const FeatureRow>();
    try {
      train_model(config, mine, request);
    } catch (const dist::CollectiveFailure& f) {
      messages[comm.rank()] = f.what();
    }
  });
  EXPECT_NE(messages[0].find("no test rows"), std::string::npos) << messages[0];
  EXPECT_EQ(messages[1], messages[0]);
}

}  // namespace
}  // namespace loadcast
