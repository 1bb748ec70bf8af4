// The golden case of docs/outputs.md: the ETL reproduces the expected tables and
// line accounting exactly (floats within 1e-9 relative).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "etl/etl.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::compare_tables;
using testing::read_csv;
using testing::read_partitioned;

const fs::path kGolden = LOADCAST_GOLDEN_DIR;

class GoldenEtlTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    config_ = load_config(kGolden / "config.json");
    config_.output = temp_.path() / "out";
    EtlOptions options;
    options.threads = GetParam();
    report_ = run_etl(config_, options);
  }
  testing::TempDir temp_;
  Config config_;
  EtlReport report_;
};

TEST_P(GoldenEtlTest, FeatureTableMatches) {
  const auto problems = compare_tables(read_csv(kGolden / "expected/features.csv"),
                                       read_partitioned(config_.output / "features"), {"key"});
  EXPECT_EQ(problems, "");
}

TEST_P(GoldenEtlTest, HourlyStoreMatches) {
  const auto problems = compare_tables(read_csv(kGolden / "expected/hourly.csv"),
                                       read_partitioned(config_.output / "hourly"),
                                       {"ServerIP", "SessionStartHourTime"});
  EXPECT_EQ(problems, "");
}

TEST_P(GoldenEtlTest, DailyStoreMatches) {
  const auto problems =
      compare_tables(read_csv(kGolden / "expected/daily.csv"),
                     read_partitioned(config_.output / "daily"), {"ServerIP", "SessionStartDay"});
  EXPECT_EQ(problems, "");
}

TEST_P(GoldenEtlTest, SummaryAccountsForEveryLine) {
  const auto expected =
      nlohmann::json::parse(testing::read_text(kGolden / "expected/summary.json"));
  const auto actual =
      nlohmann::json::parse(testing::read_text(config_.output / "etl_summary.json"));
  for (const char* key : {"lines", "accepted", "outside_window", "filtered_ip", "blank", "rejected",
                          "missing_values", "servers", "rows", "dailyRows", "layout"}) {
    EXPECT_EQ(actual[key], expected[key]) << key;
  }
  EXPECT_TRUE(report_.accounting.balanced());
}

TEST_P(GoldenEtlTest, RowsAreSortedByServerThenTimeInMonthFolders) {
  EXPECT_TRUE(fs::exists(config_.output / "features/2016/07/part-00000.csv"));
  const auto table = read_partitioned(config_.output / "features");
  for (size_t i = 1; i < table.rows.size(); ++i) {
    const auto& a = table.rows[i - 1];
    const auto& b = table.rows[i];
    EXPECT_TRUE(a[1] < b[1] || (a[1] == b[1] && a[2] < b[2])) << "row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, GoldenEtlTest, ::testing::Values(1, 2));

TEST(GoldenEtlFilterTest, FilterIpKeepsOnlyTheConfiguredServers) {
  testing::TempDir temp;
  Config config = load_config(kGolden / "config.json");
  config.output = temp.path();
  config.filter_ips = {"2001:db8::7"};
  EtlOptions options;
  options.filter_ip = true;
  const EtlReport report = run_etl(config, options);
  EXPECT_EQ(report.accounting.accepted, 3);
  EXPECT_EQ(report.accounting.filtered_ip, 41);
  EXPECT_TRUE(report.accounting.balanced());
  EXPECT_EQ(report.servers, 1);
}

}  // namespace
}  // namespace loadcast
