// generate -> etl -> train through the program on a small generated month:
// the features, the forest and the predictions do not depend on threads, and
// the line accounting balances on dirty data.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

int run_quietly(const std::string& args) {
  const int status =
      std::system((std::string(LOADCAST_BINARY) + " " + args + " > /dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string all_parts(const fs::path& dir) {
  std::string text;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file())
      text +=
          entry.path().lexically_relative(dir).string() + "\n" + testing::read_text(entry.path());
  return text;
}

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new testing::TempDir();
    const fs::path data = temp_->path() / "data";
    ASSERT_EQ(
        run_quietly("generate --out " + data.string() + " --size 3M --dirty-rate 0.03 --seed 5"),
        0);
    testing::write_text(data / "config.json",
                        R"({"storageAccount": "a", "storageKey": "", "storageContainer": "c",
      "dataFile": "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv", "duration": "ONE_MONTH",
      "forest": {"numTrees": 20, "maxDepth": 6}})");
    for (int threads : {1, 2}) {
      const std::string out = (temp_->path() / ("out" + std::to_string(threads))).string();
      const std::string args = (data / "config.json").string() + " --threads " +
                               std::to_string(threads) + " --output " + out;
      ASSERT_EQ(run_quietly("etl " + args + " --chunk-mb 1"), 0);
      ASSERT_EQ(run_quietly("train " + args), 0);
    }
  }
  static void TearDownTestSuite() { delete temp_; }
  static fs::path out(int threads) { return temp_->path() / ("out" + std::to_string(threads)); }
  static testing::TempDir* temp_;
};
testing::TempDir* PipelineTest::temp_ = nullptr;

TEST_F(PipelineTest, FeaturesAndStoresAreTheSameForOneAndTwoThreads) {
  for (const char* table : {"features", "hourly", "daily"}) {
    const std::string one = all_parts(out(1) / table);
    EXPECT_FALSE(one.empty()) << table;
    EXPECT_TRUE(one == all_parts(out(2) / table)) << table;
  }
}

TEST_F(PipelineTest, ForestAndMetricsAreByteIdenticalForOneAndTwoThreads) {
  EXPECT_EQ(testing::read_text(out(1) / "model/forest.json"),
            testing::read_text(out(2) / "model/forest.json"));
  EXPECT_EQ(testing::read_text(out(1) / "model/metrics.json"),
            testing::read_text(out(2) / "model/metrics.json"));
}

TEST_F(PipelineTest, LineAccountingBalancesOnDirtyData) {
  const auto s = nlohmann::json::parse(testing::read_text(out(1) / "etl_summary.json"));
  int64_t rejected = 0;
  for (const auto& [reason, count] : s["rejected"].items()) {
    rejected += count.get<int64_t>();
    EXPECT_GT(count.get<int64_t>(), 0) << reason;
  }
  EXPECT_EQ(s["lines"].get<int64_t>(),
            s["accepted"].get<int64_t>() + s["outside_window"].get<int64_t>() +
                s["filtered_ip"].get<int64_t>() + s["blank"].get<int64_t>() + rejected);
  EXPECT_GT(s["outside_window"].get<int64_t>(), 0);
  EXPECT_GT(s["blank"].get<int64_t>(), 0);
}

TEST_F(PipelineTest, EveryLabelIsPresentAndTestMetricsAreReasonable) {
  const auto m = nlohmann::json::parse(testing::read_text(out(1) / "model/metrics.json"));
  EXPECT_GT(m["test"]["accuracy"].get<double>(), 0.6);
  EXPECT_GT(m["test"]["rows"].get<int64_t>(), 0);
  const auto features = testing::read_partitioned(out(1) / "features");
  const int label = features.column("label");
  int counts[4] = {};
  for (const auto& row : features.rows) ++counts[std::stoi(row[static_cast<size_t>(label)])];
  for (int l = 1; l <= 3; ++l)
    EXPECT_GT(counts[l], static_cast<int>(features.rows.size() * 0.15)) << l;
}

}  // namespace
}  // namespace loadcast
