// `loadcast etl` on MPI ranks, through the program under mpirun: np 1..4 give
// exactly the features, stores and line accounting of a run without mpirun;
// a rank that dies fails the job and leaves the previous output intact, and
// the rerun matches; only rank 0 records the run, with the rank count.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "etl/etl.h"
#include "support/csv.h"
#include "support/mpirun.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_shell;
using testing::snapshot;
using testing::staging_left;

// Every row of a partitioned table (headers dropped), sorted: the content
// whatever the part files.
std::vector<std::string> table_rows(const fs::path& dir) {
  std::vector<std::string> rows;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string text = read_text(entry.path());
    size_t at = text.find('\n') + 1;  // past the header
    while (at < text.size()) {
      const size_t end = text.find('\n', at);
      rows.push_back(text.substr(at, end - at));
      at = end + 1;
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

class MpiEtlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::mpi_unavailable_reason().empty()) return;
    temp_ = new testing::TempDir();
    ASSERT_EQ(
        testing::write_generated_case(temp_->path(),
                                      "--start 2016-06-01 --end 2016-06-08 --servers 20 --size 3M "
                                      "--dirty-rate 0.03 --seed 11",
                                      R"("filterIPs": ["115.220.193.16"])"),
        0);
    std::string log;
    ASSERT_EQ(run_shell(binary() + " etl " + args(temp_->path() / "plain") + " --threads 2", &log),
              0)
        << log;
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  void SetUp() override {
    const std::string reason = testing::mpi_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }

  static std::string binary() { return LOADCAST_BINARY; }
  static fs::path config() { return temp_->path() / "config.json"; }
  // 64 KiB chunks: dozens of chunks, several per file, several rounds. Each
  // output has its own run history beside it.
  static std::string args(const fs::path& out) {
    return config().string() + " --chunk-mb 0.0625 --output " + out.string() + " --workspace " +
           out.string() + "-ws";
  }
  static int etl_on_ranks(int np, const fs::path& out, std::string* log,
                          const std::string& env = "", const std::string& more = "") {
    // Failures are injected through the test program's environment.
    const std::string program = env.empty() ? binary() : LOADCAST_FAULTS_BINARY;
    return run_shell(env + " " + testing::mpirun_prefix(np) + program + " etl " + args(out) +
                         " --threads 1 " + more,
                     log);
  }
  static void expect_same_as_plain(const fs::path& out) {
    const fs::path plain = temp_->path() / "plain";
    for (const char* table : {"features", "hourly", "daily"}) {
      const auto rows = table_rows(out / table);
      EXPECT_FALSE(rows.empty()) << table;
      EXPECT_TRUE(rows == table_rows(plain / table))
          << table << " differs from the run without mpirun";
    }
    const auto expected = nlohmann::json::parse(read_text(plain / "etl_summary.json"));
    const auto actual = nlohmann::json::parse(read_text(out / "etl_summary.json"));
    for (const char* key :
         {"lines", "accepted", "outside_window", "filtered_ip", "blank", "rejected",
          "missing_values", "servers", "rows", "dailyRows", "bytes", "layout", "files"})
      EXPECT_EQ(actual[key], expected[key]) << key;
  }

  static testing::TempDir* temp_;
};
testing::TempDir* MpiEtlTest::temp_ = nullptr;

TEST_F(MpiEtlTest, OneToFourRanksGiveTheFeaturesOfOneProcess) {
  for (int np = 1; np <= 4; ++np) {
    const fs::path out = temp_->path() / ("np" + std::to_string(np));
    std::string log;
    ASSERT_EQ(etl_on_ranks(np, out, &log), 0) << log;
    SCOPED_TRACE("np " + std::to_string(np));
    expect_same_as_plain(out);
    const auto summary = nlohmann::json::parse(read_text(out / "etl_summary.json"));
    EXPECT_EQ(summary["ranks"], np);
    EXPECT_EQ(summary["lines"],
              summary["accepted"].get<int64_t>() + summary["outside_window"].get<int64_t>() +
                  summary["filtered_ip"].get<int64_t>() + summary["blank"].get<int64_t>() +
                  summary["rejected"]["field_count"].get<int64_t>() +
                  summary["rejected"]["bad_timestamp"].get<int64_t>() +
                  summary["rejected"]["bad_server_ip"].get<int64_t>());
    EXPECT_EQ(summary["shuffle"]["bytes"].get<int64_t>() > 0, np > 1);
    // One part file per rank in each month folder.
    for (int r = 0; r < np; ++r) {
      char part[32];
      std::snprintf(part, sizeof part, "part-%05d.csv", r);
      EXPECT_TRUE(fs::exists(out / "features/2016/06" / part)) << part;
    }
  }
}

TEST_F(MpiEtlTest, ThreeRanksWithinASmallMemoryLimitSpillAndMatchOneProcess) {
  // What reading takes on 3 ranks with 64 KiB chunks, and 32 KiB for each
  // rank's aggregate: every rank spills its own share.
  const uint64_t limit = reading_memory_bytes(1, 64 << 10, 3) + (32 << 10);
  const fs::path out = temp_->path() / "np3-spilled";
  std::string log;
  ASSERT_EQ(etl_on_ranks(3, out, &log, "", "--memory-limit " + std::to_string(limit)), 0) << log;
  expect_same_as_plain(out);
  const fs::path in_memory = temp_->path() / "np3-memory";
  ASSERT_EQ(etl_on_ranks(3, in_memory, &log), 0) << log;
  for (const char* table : {"features", "hourly", "daily"})
    EXPECT_TRUE(snapshot(out / table) == snapshot(in_memory / table))
        << table << ": the part files differ from the ranks' in memory";
  const auto summary = nlohmann::json::parse(read_text(out / "etl_summary.json"));
  EXPECT_EQ(summary["spill"]["ranks"], 3) << summary.dump();
  EXPECT_GT(summary["spill"]["runs"].get<int64_t>(), 3);
  EXPECT_EQ(summary["memoryLimit"], limit);
  EXPECT_EQ(testing::staging_left(out), std::vector<std::string>{});
  // The run history has the limit and what was spilled.
  std::string shown;
  ASSERT_EQ(run_shell(binary() + " runs show 1 --workspace " + out.string() + "-ws", &shown), 0)
      << shown;
  EXPECT_NE(shown.find("memoryLimit"), std::string::npos) << shown;
  EXPECT_NE(shown.find(std::to_string(limit)), std::string::npos) << shown;
  EXPECT_NE(shown.find("spill_runs"), std::string::npos) << shown;
}

TEST_F(MpiEtlTest, OnlyRankZeroRecordsTheRunWithTheRankCount) {
  std::string log;
  ASSERT_EQ(etl_on_ranks(3, temp_->path() / "history", &log), 0) << log;
  const auto runs = testing::recorded_runs(temp_->path() / "history-ws");
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  EXPECT_EQ(runs[0]["command"], "etl");
  EXPECT_EQ(runs[0]["ranks"], 3);
  EXPECT_EQ(runs[0]["status"], "finished");
}

TEST_F(MpiEtlTest, DeadRankLeavesThePreviousOutputAndTheRerunMatches) {
  const fs::path out = temp_->path() / "failing";
  std::string log;
  // The previous output: another job (FILTER_IP), so any replaced file shows.
  ASSERT_EQ(etl_on_ranks(2, out, &log, "", "FILTER_IP"), 0) << log;
  const auto before = snapshot(out);

  // Rank 1 is killed once its part files are written, before the rename.
  log.clear();
  EXPECT_NE(etl_on_ranks(2, out, &log,
                         "LOADCAST_FAIL_RANK=1 LOADCAST_FAIL_AT=write LOADCAST_FAIL_HOW=kill"),
            0)
      << log;
  EXPECT_TRUE(snapshot(out) == before) << "output changed by a failed job";

  // Rank 2 fails in the shuffle: the job ends with its message.
  log.clear();
  EXPECT_EQ(etl_on_ranks(3, out, &log, "LOADCAST_FAIL_RANK=2 LOADCAST_FAIL_AT=shuffle"), 1) << log;
  EXPECT_NE(log.find("loadcast: rank 2: etl: error: injected failure"), std::string::npos) << log;
  EXPECT_NE(log.find("injected failure at 'shuffle'"), std::string::npos) << log;
  EXPECT_TRUE(snapshot(out) == before) << "output changed by a failed job";

  // The rerun also removes what the killed job had staged.
  log.clear();
  ASSERT_EQ(etl_on_ranks(3, out, &log), 0) << log;
  expect_same_as_plain(out);
  EXPECT_EQ(staging_left(out), std::vector<std::string>{});
}

TEST_F(MpiEtlTest, StandardInputIsReadByRankZero) {
  const fs::path dir = temp_->path() / "stdin";
  const fs::path input = dir / "sessions.csv";
  fs::create_directories(dir);
  ASSERT_EQ(
      run_shell(binary() +
                " generate --stdout --start 2016-06-01 --end 2016-06-04 --servers 8 --size 1M "
                "--seed 5 > " +
                input.string()),
      0);
  testing::write_text(dir / "config.json",
                      R"({"storageAccount": "a", "storageKey": "", "storageContainer": "c",
    "dataFile": "-", "duration": "ONE_MONTH"})");
  const std::string etl = " etl " + (dir / "config.json").string() +
                          " --chunk-mb 0.0625 --threads 1 --workspace " + (dir / "ws").string() +
                          " --output ";
  std::string log;
  ASSERT_EQ(run_shell(binary() + etl + (dir / "one").string() + " < " + input.string(), &log), 0)
      << log;
  ASSERT_EQ(run_shell(testing::mpirun_prefix(3) + binary() + etl + (dir / "three").string() +
                          " < " + input.string(),
                      &log),
            0)
      << log;
  for (const char* table : {"features", "hourly", "daily"}) {
    EXPECT_FALSE(table_rows(dir / "one" / table).empty()) << table;
    EXPECT_TRUE(table_rows(dir / "one" / table) == table_rows(dir / "three" / table)) << table;
  }
  const auto one = nlohmann::json::parse(read_text(dir / "one/etl_summary.json"));
  const auto three = nlohmann::json::parse(read_text(dir / "three/etl_summary.json"));
  EXPECT_EQ(one["lines"], three["lines"]);
  EXPECT_EQ(one["accepted"], three["accepted"]);
}

TEST_F(MpiEtlTest, NoAcceptedRowsIsOneMessageAndExitCodeThree) {
  const fs::path dir = temp_->path() / "garbage";
  testing::write_text(dir / "in.csv", "not,a,session\n\n1,2,3\n");
  testing::write_text(dir / "config.json",
                      R"({"storageAccount": "a", "storageKey": "", "storageContainer": "c",
    "dataFile": ")" + (dir / "in.csv").string() +
                          R"(", "duration": "ONE_MONTH", "layout": "sessions17"})");
  std::string log;
  EXPECT_EQ(
      run_shell(testing::mpirun_prefix(2) + binary() + " etl " + (dir / "config.json").string() +
                    " --output " + (dir / "out").string() + " --workspace " + (dir / "ws").string(),
                &log),
      3)
      << log;
  const size_t first = log.find("no accepted rows");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("no accepted rows", first + 1), std::string::npos)
      << "reported more than once:\n"
      << log;
  EXPECT_FALSE(fs::exists(dir / "out/features"));
}

// Every rank reads the same configuration: its refusal is said once, by
// rank 0, with the usage exit code, not as an abort of one rank.
TEST_F(MpiEtlTest, AConfigurationErrorIsOneMessageAndExitCodeTwo) {
  const fs::path dir = temp_->path() / "badconfig";
  testing::write_text(dir / "config.json",
                      R"({"storageContainer": "c", "dataFile": "-", "forest": {"maxDepth": 0}})");
  std::string log;
  EXPECT_EQ(
      run_shell(testing::mpirun_prefix(2) + binary() + " etl " + (dir / "config.json").string() +
                    " --workspace " + (dir / "ws").string() + " < /dev/null",
                &log),
      2)
      << log;
  const std::string message =
      "loadcast etl: error: " + (dir / "config.json").string() + ": field 'forest.maxDepth'";
  const size_t first = log.find(message);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(message, first + 1), std::string::npos) << "reported more than once:\n" << log;
  EXPECT_EQ(log.find("MPI_ABORT"), std::string::npos) << log;
}

}  // namespace
}  // namespace loadcast
