// A full disk, a short write or a failed rename while an output is written:
// the error names the file, and the previous output stays as it was, with
// nothing half-written beside it. Faults come in through common/faults.h.
#include "common/faults.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "common/error.h"
#include "config/config.h"
#include "etl/etl.h"
#include "model/model.h"
#include "model/trainer.h"
#include "store/atomic_dir.h"
#include "store/tables.h"
#include "support/csv.h"
#include "support/program.h"
#include "support/scoped_faults.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::ScopedFaults;

class OutputFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
    config_.output = temp_.path() / "out";
    run_etl(config_, EtlOptions{});
    before_ = testing::snapshot(config_.output);
    ASSERT_FALSE(before_.empty());
  }

  // Runs the ETL again, on a day less and with another low threshold (so
  // that every table would change), under `faults`, and expects a data
  // error naming `mention`, with the first output untouched and no staging
  // left.
  void expect_failed_etl_keeps_output(ScopedFaults& faults, const std::string& mention,
                                      const EtlOptions& options = EtlOptions{}) {
    Config other = config_;
    other.train_end -= kSecondsPerDay * kNanosPerSecond;
    other.test_split_start -= kSecondsPerDay * kNanosPerSecond;
    other.low_threshold = 150;
    try {
      run_etl(other, options);
      ADD_FAILURE() << "the ETL did not fail";
    } catch (const Failure& f) {
      EXPECT_EQ(f.code(), ExitCode::kData) << f.what();
      EXPECT_NE(std::string(f.what()).find(mention), std::string::npos) << f.what();
    }
    EXPECT_GT(faults.hits, 0);
    EXPECT_TRUE(testing::snapshot(config_.output) == before_) << "a failed run changed the output";
    EXPECT_EQ(testing::staging_left(config_.output), std::vector<std::string>{});
  }

  testing::TempDir temp_;
  Config config_;
  std::map<std::string, std::string> before_;
};

TEST_F(OutputFaults, FullDiskWhileWritingTheFeatureTable) {
  ScopedFaults faults([](std::string_view point, std::string_view target) {
    return point == "write" && target.find(".features.tmp-") != std::string_view::npos
               ? Fault::kNoSpace
               : Fault::kNone;
  });
  expect_failed_etl_keeps_output(faults, "No space left on device");
}

TEST_F(OutputFaults, FullDiskWhileSpillingTheAggregate) {
  ScopedFaults faults([](std::string_view point, std::string_view target) {
    return point == "write" && target.ends_with("runs.zst") ? Fault::kNoSpace : Fault::kNone;
  });
  EtlOptions options;
  options.chunk_bytes = 300;
  // Nothing left for the aggregate beyond its smallest table: it spills.
  options.memory_limit = reading_memory_bytes(1, options.chunk_bytes, 1) + (2 << 10);
  expect_failed_etl_keeps_output(faults, "spill file", options);
}

TEST_F(OutputFaults, ShortWriteOfTheHourlyStore) {
  ScopedFaults faults([](std::string_view point, std::string_view target) {
    return point == "write" && target.find(".hourly.tmp-") != std::string_view::npos
               ? Fault::kShortWrite
               : Fault::kNone;
  });
  expect_failed_etl_keeps_output(faults, "part-00000.csv");
}

TEST_F(OutputFaults, FullDiskWhileWritingTheSummary) {
  ScopedFaults faults([](std::string_view point, std::string_view target) {
    return point == "write" && target.find("etl_summary.json") != std::string_view::npos
               ? Fault::kNoSpace
               : Fault::kNone;
  });
  expect_failed_etl_keeps_output(faults, "etl_summary.json");
}

// The daily store cannot be put in place after the feature table and the
// hourly store were: those two are put back.
TEST_F(OutputFaults, AFailedRenameOfOneTablePutsTheOthersBack) {
  const std::string daily = (config_.output / "daily").string();
  ScopedFaults faults([&](std::string_view point, std::string_view target) {
    return point == "commit" && target == daily ? Fault::kError : Fault::kNone;
  });
  expect_failed_etl_keeps_output(faults, daily);
}

TEST_F(OutputFaults, ARunAfterTheFailureWritesTheSameOutput) {
  {
    ScopedFaults faults([](std::string_view point, std::string_view target) {
      return point == "write" && target.find(".daily.tmp-") != std::string_view::npos
                 ? Fault::kShortWrite
                 : Fault::kNone;
    });
    EXPECT_THROW(run_etl(config_, EtlOptions{}), Failure);
  }
  run_etl(config_, EtlOptions{});
  auto after = testing::snapshot(config_.output);
  after.erase("etl_summary.json");  // its timings differ
  auto expected = before_;
  expected.erase("etl_summary.json");
  EXPECT_TRUE(after == expected);
}

TEST_F(OutputFaults, FullDiskWhileSavingABundleKeepsThePreviousBundle) {
  config_.forest.num_trees = 3;
  const auto rows = read_feature_table(config_.output / "features", default_feature_schema());
  TrainRequest request;
  const TrainOutcome first = train_model(config_, rows, request);
  const fs::path bundle = temp_.path() / "model";
  first.model->save(bundle);
  const auto saved = testing::snapshot(bundle);
  config_.forest.seed = 7;  // another forest
  const TrainOutcome second = train_model(config_, rows, request);
  for (const char* file : {"forest.json", "info.json"}) {
    ScopedFaults faults([&](std::string_view point, std::string_view target) {
      return point == "write" && target.ends_with(file) ? Fault::kNoSpace : Fault::kNone;
    });
    try {
      second.model->save(bundle);
      ADD_FAILURE() << "saving did not fail at " << file;
    } catch (const Failure& f) {
      EXPECT_EQ(f.code(), ExitCode::kData);
      EXPECT_NE(std::string(f.what()).find(file), std::string::npos) << f.what();
    }
    EXPECT_TRUE(testing::snapshot(bundle) == saved) << file;
    EXPECT_EQ(testing::staging_left(temp_.path()), std::vector<std::string>{});
  }
  second.model->save(bundle);
  EXPECT_FALSE(testing::snapshot(bundle) == saved);
}

// Through the program: the disk fills up, the command exits 3 with one line
// saying so, the run is recorded failed with that line, and the output of the
// run before stays.
TEST_F(OutputFaults, TheProgramSaysTheDiskIsFull) {
  const fs::path config = fs::path(LOADCAST_GOLDEN_DIR) / "config.json";
  const std::string args = " etl " + config.string() + " --output " + config_.output.string() +
                           " --workspace " + (temp_.path() / "ws").string();
  std::string log;
  ASSERT_EQ(testing::run_shell(std::string(LOADCAST_BINARY) + args, &log), 0) << log;
  const auto before = testing::snapshot(config_.output);
  log.clear();
  const int code = testing::run_shell(
      "LOADCAST_FAIL_POINT=write LOADCAST_FAIL_AT=part-00000.csv LOADCAST_FAIL_HOW=nospace " +
          std::string(LOADCAST_FAULTS_BINARY) + args,
      &log);
  EXPECT_EQ(code, 3) << log;
  EXPECT_NE(log.find("loadcast etl: error: cannot write '"), std::string::npos) << log;
  EXPECT_NE(log.find("part-00000.csv': No space left on device"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  auto after = testing::snapshot(config_.output);
  EXPECT_TRUE(after == before);
  EXPECT_EQ(testing::staging_left(config_.output), std::vector<std::string>{});
  const auto runs = testing::recorded_runs(temp_.path() / "ws");
  ASSERT_EQ(runs.size(), 2u) << runs.dump();
  EXPECT_EQ(runs[0]["status"], "failed");
  EXPECT_NE(runs[0]["error"].get<std::string>().find("No space left on device"), std::string::npos)
      << runs.dump();
}

}  // namespace
}  // namespace loadcast
