// run_etl on N ranks as threads of one process (support/thread_communicator),
// so the distributed path runs under the sanitizers too: the golden case cut
// into many small chunks gives, on 2 to 4 ranks, exactly the tables and line
// accounting of one process.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "etl/etl.h"
#include "support/csv.h"
#include "support/thread_communicator.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

std::vector<std::vector<std::string>> sorted_rows(const fs::path& dir) {
  auto rows = testing::read_partitioned(dir).rows;
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST(EtlOnRanks, GoldenCaseInSmallChunksIsTheSameOnTwoToFourRanks) {
  testing::TempDir temp;
  Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
  EtlOptions options;
  options.chunk_bytes = 300;  // about two lines per chunk
  config.output = temp.path() / "one";
  const EtlReport one = run_etl(config, options);

  for (int ranks = 2; ranks <= 4; ++ranks) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    Config on_ranks = config;
    on_ranks.output = temp.path() / ("ranks" + std::to_string(ranks));
    std::vector<EtlReport> reports(static_cast<size_t>(ranks));
    testing::run_ranks(ranks, [&](dist::Communicator& comm) {
      reports[static_cast<size_t>(comm.rank())] = run_etl(on_ranks, options, comm);
    });
    for (const char* table : {"features", "hourly", "daily"})
      EXPECT_TRUE(sorted_rows(on_ranks.output / table) == sorted_rows(config.output / table))
          << table;
    for (const auto& report : reports) {
      EXPECT_EQ(report.accounting.lines, one.accounting.lines);
      EXPECT_EQ(report.accounting.accepted, one.accounting.accepted);
      EXPECT_EQ(report.accounting.rejected, one.accounting.rejected);
      EXPECT_EQ(report.accounting.missing_values, one.accounting.missing_values);
      EXPECT_EQ(report.servers, one.servers);
      EXPECT_EQ(report.rows, one.rows);
      EXPECT_GT(report.shuffle_bytes, 0);
    }
    const auto summary =
        nlohmann::json::parse(testing::read_text(on_ranks.output / "etl_summary.json"));
    EXPECT_EQ(summary["ranks"], ranks);
    EXPECT_EQ(summary["lines"], one.accounting.lines);
  }
}

}  // namespace
}  // namespace loadcast
