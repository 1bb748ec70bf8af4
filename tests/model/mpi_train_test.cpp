// `loadcast train` on MPI ranks, through the program under mpirun: np 1..4
// give a model bundle byte-identical to a run without mpirun (forest,
// encoder, metrics, info), also from a feature table in several part files;
// a rank that dies fails the job and leaves the previous bundle intact, and
// the rerun matches; only rank 0 records the run, with the rank count.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/csv.h"
#include "support/mpirun.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_shell;

// Every file under `dir` by relative path.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file())
      files[entry.path().lexically_relative(dir).string()] = read_text(entry.path());
  return files;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class MpiTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::mpi_unavailable_reason().empty()) return;
    temp_ = new testing::TempDir();
    ASSERT_EQ(testing::write_generated_case(temp_->path(),
                                            "--servers 12 --size 3M --dirty-rate 0.02 --seed 21",
                                            R"("forest": {"numTrees": 24, "maxDepth": 7})"),
              0);
    std::string log;
    ASSERT_EQ(run_shell(binary() + " etl " + config().string() + " --output " + out().string() +
                            " --workspace " + (temp_->path() / "ws").string(),
                        &log),
              0)
        << log;
    ASSERT_EQ(run_shell(binary() + " train " + args(out()) + " --threads 2", &log), 0) << log;
    plain_ = new std::map<std::string, std::string>(snapshot(out() / "model"));
  }
  static void TearDownTestSuite() {
    delete plain_;
    plain_ = nullptr;
    delete temp_;
    temp_ = nullptr;
  }
  void SetUp() override {
    const std::string reason = testing::mpi_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    ASSERT_NE(plain_, nullptr) << "the set-up run without mpirun failed";
  }

  static std::string binary() { return LOADCAST_BINARY; }
  static fs::path config() { return temp_->path() / "config.json"; }
  static fs::path out() { return temp_->path() / "out"; }
  static std::string args(const fs::path& output) {
    return config().string() + " --output " + output.string() + " --workspace " + output.string() +
           "-ws";
  }
  static int train_on_ranks(int np, const fs::path& output, std::string* log,
                            const std::string& env = "", int threads = 1) {
    // Failures are injected through the test program's environment.
    const std::string program = env.empty() ? binary() : LOADCAST_FAULTS_BINARY;
    return run_shell(env + " " + testing::mpirun_prefix(np) + program + " train " + args(output) +
                         " --threads " + std::to_string(threads),
                     log);
  }
  // A fresh output folder holding the ETL's feature table and summary.
  static fs::path copy_of_etl_output(const std::string& name) {
    const fs::path output = temp_->path() / name;
    fs::create_directories(output);
    fs::copy(out() / "features", output / "features", fs::copy_options::recursive);
    fs::copy_file(out() / "etl_summary.json", output / "etl_summary.json");
    return output;
  }
  static void expect_plain_bundle(const fs::path& output) {
    const auto got = snapshot(output / "model");
    ASSERT_EQ(got.size(), plain_->size());
    for (const auto& [name, text] : *plain_) {
      ASSERT_TRUE(got.contains(name)) << name;
      EXPECT_TRUE(got.at(name) == text) << name << " differs from the run without mpirun";
    }
  }

  static testing::TempDir* temp_;
  static std::map<std::string, std::string>* plain_;  // the bundle of the run without mpirun
};
testing::TempDir* MpiTrainTest::temp_ = nullptr;
std::map<std::string, std::string>* MpiTrainTest::plain_ = nullptr;

TEST_F(MpiTrainTest, OneToFourRanksGiveTheBundleOfOneProcess) {
  for (int np = 1; np <= 4; ++np) {
    SCOPED_TRACE("np " + std::to_string(np));
    fs::remove_all(out() / "model");
    std::string log;
    ASSERT_EQ(train_on_ranks(np, out(), &log, "", np == 2 ? 2 : 1), 0) << log;
    expect_plain_bundle(out());
    if (np > 1) {
      EXPECT_NE(log.find("x " + std::to_string(np) + " ranks, allreduce"), std::string::npos)
          << log;
    }
    // Rank 0 alone prints the metrics.
    const size_t first = log.find("Test Accuracy");
    ASSERT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find("Test Accuracy", first + 1), std::string::npos) << log;
  }
}

TEST_F(MpiTrainTest, FeatureTableInSeveralPartFilesGivesTheSameBundle) {
  // The ETL on three ranks writes three part files per month.
  const fs::path parts = temp_->path() / "parts";
  std::string log;
  ASSERT_EQ(run_shell(testing::mpirun_prefix(3) + binary() + " etl " + args(parts) + " --threads 1",
                      &log),
            0)
      << log;
  ASSERT_TRUE(fs::exists(parts / "features/2016/06/part-00002.csv"));
  ASSERT_EQ(train_on_ranks(2, parts, &log), 0) << log;
  expect_plain_bundle(parts);
}

// Boosted trees with early stopping on three ranks: the bundle of one
// process with two threads, byte for byte.
TEST_F(MpiTrainTest, BoostedTreesOnThreeRanksGiveTheBundleOfOneProcess) {
  nlohmann::json boosted = nlohmann::json::parse(read_text(config()));
  boosted["algorithm"] = "gradientBoostedTrees";
  boosted["boosting"] = {{"numRounds", 30}, {"earlyStoppingRounds", 3}, {"subsample", 0.8}};
  const fs::path boosted_config = temp_->path() / "boosted.json";
  testing::write_text(boosted_config, boosted.dump());
  std::map<std::string, std::string> bundles[2];
  for (int np : {1, 3}) {
    const fs::path output = copy_of_etl_output("boosted-" + std::to_string(np));
    const std::string command = std::string(np > 1 ? testing::mpirun_prefix(np) : "") + binary() +
                                " train " + boosted_config.string() + " --output " +
                                output.string() + " --workspace " + output.string() +
                                "-ws --threads " + (np > 1 ? "1" : "2");
    std::string log;
    ASSERT_EQ(run_shell(command, &log), 0) << log;
    EXPECT_NE(log.find("early stopping: "), std::string::npos) << log;
    EXPECT_NE(log.find("; boosting "), std::string::npos) << log;
    bundles[np > 1] = snapshot(output / "model");
  }
  ASSERT_EQ(bundles[0].size(), 4u);
  for (const auto& [name, text] : bundles[0])
    EXPECT_TRUE(bundles[1][name] == text) << name << " differs on three ranks";
  EXPECT_NE(bundles[0]["forest.json"].find("gradientBoostedTrees"), std::string::npos);
}

// The trial table `tune` prints, without its SECONDS column, and the best line up to its timing.
std::string tuning_decision(const std::string& log) {
  std::string out;
  std::istringstream lines(log);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("TRIAL")) in_table = true;
    if (line.starts_with("best: ")) {
      out += line.substr(0, line.find(';')) + "\n";
      break;
    }
    if (in_table) out += line.substr(0, line.rfind(' ')) + "\n";  // the last column: seconds
  }
  return out;
}

TEST_F(MpiTrainTest, TuneOnThreeRanksChoosesAndWritesWhatOneProcessDoes) {
  nlohmann::json tuned = nlohmann::json::parse(read_text(config()));
  tuned["tuning"] = {{"space", {{"forest.maxDepth", {3, 7}}, {"forest.numTrees", {6, 12}}}}};
  const fs::path tuned_config = temp_->path() / "tuned.json";
  testing::write_text(tuned_config, tuned.dump());
  std::map<std::string, std::string> bundles[2];
  std::string decisions[2];
  for (int np : {1, 3}) {
    const fs::path output = copy_of_etl_output("tuned-" + std::to_string(np));
    const std::string command = std::string(np > 1 ? testing::mpirun_prefix(np) : "") + binary() +
                                " tune " + tuned_config.string() + " --output " + output.string() +
                                " --workspace " + output.string() + "-ws --threads " +
                                (np > 1 ? "1" : "2");
    std::string log;
    ASSERT_EQ(run_shell(command, &log), 0) << log;
    bundles[np > 1] = snapshot(output / "model");
    decisions[np > 1] = tuning_decision(log);
    // One tuning run with the rank count, its four trials as its children.
    const auto runs = testing::recorded_runs(output.string() + "-ws");
    ASSERT_EQ(runs.size(), 1u) << runs.dump();
    EXPECT_EQ(runs[0]["command"], "tune");
    EXPECT_EQ(runs[0]["ranks"], np);
    std::string shown;
    ASSERT_EQ(
        run_shell(binary() + " runs --workspace " + output.string() + "-ws --format json show " +
                      std::to_string(runs[0]["id"].get<int64_t>()),
                  &shown),
        0)
        << shown;
    const auto show = nlohmann::json::parse(shown);
    ASSERT_EQ(show["children"].size(), 4u) << shown;
    for (const auto& trial : show["children"]) {
      EXPECT_EQ(trial["command"], "trial");
      size_t folds = 0;
      for (const auto& m : trial["metrics"]) folds += m["name"] == "validation.accuracy";
      EXPECT_EQ(folds, 3u);
    }
  }
  EXPECT_NE(decisions[0].find("best: trial "), std::string::npos) << decisions[0];
  EXPECT_EQ(decisions[1], decisions[0]);
  ASSERT_EQ(bundles[0].size(), 4u);
  for (const auto& [name, text] : bundles[0])
    EXPECT_TRUE(bundles[1][name] == text) << name << " differs on three ranks";
}

TEST_F(MpiTrainTest, OnlyRankZeroRecordsTheRunWithTheRankCount) {
  const fs::path output = copy_of_etl_output("history");
  std::string log;
  ASSERT_EQ(train_on_ranks(3, output, &log), 0) << log;
  const auto runs = testing::recorded_runs(output.string() + "-ws");
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["command"], "train");
  EXPECT_EQ(runs[0]["ranks"], 3);
  EXPECT_EQ(runs[0]["status"], "finished");
}

TEST_F(MpiTrainTest, DeadRankLeavesThePreviousBundleAndTheRerunMatches) {
  const fs::path output = copy_of_etl_output("failing");
  // The previous bundle: another forest (a train from other options would do;
  // a marker file shows any replacement).
  std::string log;
  ASSERT_EQ(train_on_ranks(2, output, &log), 0) << log;
  testing::write_text(output / "model/previous.txt", "the bundle before the failed runs\n");
  const auto before = snapshot(output);
  const auto listing = entries(output);

  // Rank 1 is killed while the others wait in the forest's collectives.
  log.clear();
  EXPECT_NE(train_on_ranks(3, output, &log, "LOADCAST_FAIL_RANK=1 LOADCAST_FAIL_HOW=kill"), 0)
      << log;
  EXPECT_NE(log.find("rank 1"), std::string::npos) << log;
  EXPECT_NE(log.find("signal 9"), std::string::npos) << log;
  EXPECT_TRUE(snapshot(output) == before) << "output changed by a failed job";
  EXPECT_EQ(entries(output), listing) << "a failed job left files beside the bundle";

  // Rank 2 fails with an error: the job ends with its message.
  log.clear();
  EXPECT_EQ(train_on_ranks(3, output, &log, "LOADCAST_FAIL_RANK=2"), 1) << log;
  EXPECT_NE(log.find("loadcast: rank 2: train: error"), std::string::npos) << log;
  EXPECT_NE(log.find("injected failure at 'train-forest'"), std::string::npos) << log;
  EXPECT_TRUE(snapshot(output) == before) << "output changed by a failed job";

  log.clear();
  ASSERT_EQ(train_on_ranks(3, output, &log), 0) << log;
  EXPECT_FALSE(fs::exists(output / "model/previous.txt"));
  expect_plain_bundle(output);
}

TEST_F(MpiTrainTest, NoFeatureTableIsOneMessageAndExitCodeThree) {
  const fs::path output = temp_->path() / "empty";
  fs::create_directories(output);
  std::string log;
  EXPECT_EQ(train_on_ranks(2, output, &log), 3) << log;
  const size_t first = log.find("no feature table found");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("no feature table found", first + 1), std::string::npos)
      << "reported more than once:\n"
      << log;
}

}  // namespace
}  // namespace loadcast
