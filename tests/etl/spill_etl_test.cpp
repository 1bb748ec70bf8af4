// The ETL within a memory limit (docs/operations.md, "Memory"): budgets
// that spill nothing, a few runs or many give the same bytes in every table
// as the run in memory, on the golden case, on generated data with dirty
// lines and IPv6 servers over the FULL window, with 1 and 2 threads and on
// 3 ranks; the same lines shuffled give the same tables through the spill
// path; a limit too small for reading, or for one server's history, is a
// clear error naming it.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "config/config.h"
#include "etl/etl.h"
#include "support/csv.h"
#include "support/program.h"
#include "support/scoped_faults.h"
#include "support/thread_communicator.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 3> kTables = {"features", "hourly", "daily"};

// Every table file's bytes, by path under the output.
std::map<std::string, std::string> tables_of(const fs::path& out) {
  std::map<std::string, std::string> files;
  for (const char* table : kTables)
    for (const auto& [path, text] : testing::snapshot(out / table)) files[table + path] = text;
  return files;
}

// A limit that leaves the aggregate `aggregate` bytes (0: the default).
uint64_t limit_for(int threads, size_t chunk_bytes, int ranks, uint64_t aggregate) {
  return aggregate == 0 ? 0 : reading_memory_bytes(threads, chunk_bytes, ranks) + aggregate;
}

// The same lines in another order (a fixed shuffle), into `to`.
void shuffle_lines(const fs::path& from, const fs::path& to) {
  const std::string text = testing::read_text(from);
  std::vector<std::string> lines;
  for (const auto line : testing::split_lines(text)) lines.emplace_back(line);
  std::mt19937 random(5);
  std::shuffle(lines.begin(), lines.end(), random);
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  testing::write_text(to, out);
}

class SpillEtlTest : public ::testing::Test {
 protected:
  // Generated sessions (`loadcast generate --out`) and a configuration with
  // `window` (JSON members) reading all of them.
  Config generated(const std::string& generate_options, const std::string& window) {
    const fs::path data = temp_.path() / "data";
    std::string log;
    EXPECT_EQ(testing::run_shell(std::string(LOADCAST_BINARY) + " generate --out " + data.string() +
                                     " " + generate_options,
                                 &log),
              0)
        << log;
    nlohmann::json config = nlohmann::json::parse("{" + window + "}");
    config["dataFile"] = (data / "*/*/*/*/request.csv").string();
    config["storageContainer"] = "c";
    testing::write_text(temp_.path() / "config.json", config.dump());
    return load_config(temp_.path() / "config.json");
  }

  // Runs the ETL of `config` into `name` and returns its report.
  EtlReport etl(Config config, const std::string& name, int threads, size_t chunk_bytes,
                uint64_t aggregate) {
    config.output = temp_.path() / name;
    EtlOptions options;
    options.threads = threads;
    options.chunk_bytes = chunk_bytes;
    options.memory_limit = limit_for(threads, chunk_bytes, 1, aggregate);
    return run_etl(config, options);
  }

  // For every thread count and budget: the tables of the run in memory,
  // byte for byte; the budgets spill more and more.
  void expect_same_for_any_budget(const Config& config, size_t chunk_bytes,
                                  const std::vector<uint64_t>& budgets) {
    for (const int threads : {1, 2}) {
      const std::string base = "memory-" + std::to_string(threads);
      const EtlReport in_memory = etl(config, base, threads, chunk_bytes, 0);
      ASSERT_EQ(in_memory.spill.runs, 0);
      const auto expected = tables_of(temp_.path() / base);
      int64_t runs = 0;
      for (const uint64_t budget : budgets) {
        SCOPED_TRACE(std::to_string(threads) + " threads, aggregate budget " +
                     std::to_string(budget));
        const std::string name = base + "-" + std::to_string(budget);
        const EtlReport spilled = etl(config, name, threads, chunk_bytes, budget);
        EXPECT_GT(spilled.spill.runs, runs) << "a smaller budget spilled no more";
        runs = spilled.spill.runs;
        EXPECT_GT(spilled.spill.bytes, 0);
        EXPECT_EQ(spilled.accounting.lines, in_memory.accounting.lines);
        EXPECT_EQ(spilled.accounting.accepted, in_memory.accounting.accepted);
        EXPECT_TRUE(tables_of(temp_.path() / name) == expected)
            << "the spilled tables differ from the ones made in memory";
        EXPECT_EQ(testing::staging_left(temp_.path() / name), std::vector<std::string>{});
      }
    }
  }

  testing::TempDir temp_;
};

TEST_F(SpillEtlTest, GoldenCaseIsTheSameForAnyBudget) {
  const Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
  // 300-byte chunks: about two lines each.
  expect_same_for_any_budget(config, 300, {2 << 10});
}

TEST_F(SpillEtlTest, GeneratedFullWindowWithDirtyLinesIsTheSameForAnyBudget) {
  // Two years of the FULL window, IPv6 servers among them, 3 % dirty lines.
  const Config config = generated(
      "--start 2014-07-01 --end 2016-06-30 --servers 4 --size 3M --dirty-rate 0.03 --seed 21",
      R"("duration": "FULL")");
  // 1 MiB chunks: room in the limit for a server's two years of hours.
  expect_same_for_any_budget(config, 1 << 20, {1 << 20, 128 << 10, 16 << 10});
}

TEST_F(SpillEtlTest, ShuffledLinesGiveTheSameTablesThroughTheSpill) {
  // The golden measures are whole numbers: every sum is exact, so the order
  // of the lines cannot show, and the shuffled input must give the very
  // bytes of the ordered one, late contributions and all.
  const fs::path golden = LOADCAST_GOLDEN_DIR;
  Config config = load_config(golden / "config.json");
  const EtlReport ordered = etl(config, "ordered", 1, 300, 0);
  shuffle_lines(golden / "input" / "request.csv", temp_.path() / "shuffled.csv");
  config.data_file = (temp_.path() / "shuffled.csv").string();
  for (const int threads : {1, 2}) {
    const std::string name = "shuffled-" + std::to_string(threads);
    const EtlReport shuffled = etl(config, name, threads, 300, 2 << 10);
    EXPECT_GT(shuffled.spill.runs, 1);
    EXPECT_EQ(shuffled.accounting.lines, ordered.accounting.lines);
    EXPECT_TRUE(tables_of(temp_.path() / name) == tables_of(temp_.path() / "ordered")) << name;
  }
}

// In memory, a bucket's entries from several chunks are added up in arrival
// order on the server's grid (ten days of a busy server) or along its sorted
// entries (a sparse one); the spill replays them in the order written.
TEST_F(SpillEtlTest, ShuffledGeneratedLinesSpillLateAndMatchTheirRunInMemory) {
  Config config = generated("--start 2016-06-01 --end 2016-06-10 --servers 12 --size 2M --seed 8",
                            R"("duration": "ONE_MONTH")");
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(temp_.path() / "data"))
    if (entry.is_regular_file()) all += testing::read_text(entry.path());
  testing::write_text(temp_.path() / "all.csv", all);
  shuffle_lines(temp_.path() / "all.csv", temp_.path() / "shuffled.csv");
  config.data_file = (temp_.path() / "shuffled.csv").string();
  etl(config, "memory", 2, 64 << 10, 0);
  const EtlReport spilled = etl(config, "spilled", 2, 64 << 10, 64 << 10);
  EXPECT_GT(spilled.spill.runs, 2);
  EXPECT_GT(spilled.spill.late_entries, 0) << "shuffled input sent nothing to the late log";
  EXPECT_TRUE(tables_of(temp_.path() / "spilled") == tables_of(temp_.path() / "memory"));
}

TEST_F(SpillEtlTest, ThreeRanksSpillTheirOwnShareAndMatchOneProcess) {
  Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
  EtlOptions options;
  options.chunk_bytes = 300;
  config.output = temp_.path() / "memory";
  run_etl(config, options);
  for (const uint64_t aggregate : {uint64_t{0}, uint64_t{2} << 10}) {
    Config on_ranks = config;
    on_ranks.output = temp_.path() / ("ranks-" + std::to_string(aggregate));
    EtlOptions spilling = options;
    spilling.memory_limit = limit_for(1, options.chunk_bytes, 3, aggregate);
    std::vector<EtlReport> reports(3);
    testing::run_ranks(3, [&](dist::Communicator& comm) {
      reports[static_cast<size_t>(comm.rank())] = run_etl(on_ranks, spilling, comm);
    });
    if (aggregate > 0) {
      EXPECT_GE(reports[0].spill.ranks, 1);
    }
    for (const char* table : kTables) {
      auto expected = testing::read_partitioned(config.output / table).rows;
      auto actual = testing::read_partitioned(on_ranks.output / table).rows;
      std::sort(expected.begin(), expected.end());
      std::sort(actual.begin(), actual.end());
      EXPECT_TRUE(actual == expected) << table << " with aggregate budget " << aggregate;
    }
  }
  // And the spilled ranks wrote the very part files of the ranks in memory.
  EXPECT_TRUE(tables_of(temp_.path() / "ranks-2048") == tables_of(temp_.path() / "ranks-0"));
}

TEST_F(SpillEtlTest, TheSpillFolderIsRemovedHoweverTheRunEnds) {
  Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
  config.output = temp_.path() / "out";
  // What a killed run left behind goes at the next run into the output.
  fs::create_directories(config.output / ".spill.tmp-999999-r0");
  testing::write_text(config.output / ".spill.tmp-999999-r0" / "runs.zst", "left over");
  EtlOptions options;
  options.chunk_bytes = 300;
  options.memory_limit = limit_for(1, options.chunk_bytes, 1, 2 << 10);
  options.spill_dir = temp_.path() / "spill";
  const EtlReport spilled = run_etl(config, options);
  EXPECT_GT(spilled.spill.runs, 1);
  EXPECT_EQ(testing::staging_left(config.output), std::vector<std::string>{});
  EXPECT_TRUE(fs::is_empty(options.spill_dir)) << "the spill folder stayed";
  {
    testing::ScopedFaults full([](std::string_view point, std::string_view target) {
      return point == "write" && target.ends_with("runs.zst") ? Fault::kNoSpace : Fault::kNone;
    });
    EXPECT_THROW(run_etl(config, options), Failure);
  }
  EXPECT_TRUE(fs::is_empty(options.spill_dir)) << "a failed run left its spill folder";
}

TEST_F(SpillEtlTest, ALimitBelowWhatReadingTakesIsAClearError) {
  Config config = load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json");
  config.output = temp_.path() / "out";
  EtlOptions options;
  options.memory_limit = 8 << 20;
  try {
    run_etl(config, options);
    FAIL() << "an 8 MiB limit was taken";
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(failure.what()).find("memory limit of 8.0 MiB"), std::string::npos)
        << failure.what();
    EXPECT_NE(std::string(failure.what()).find("--memory-limit"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(config.output / "features"));
}

TEST_F(SpillEtlTest, ALimitTooSmallForOneServersHistoryIsAClearError) {
  // Seven years of one server's hours cannot be built in what a limit just
  // above reading leaves.
  Config config = generated("--start 2009-01-01 --end 2016-06-30 --servers 2 --size 1M --seed 2",
                            R"("duration": "FULL")");
  config.output = temp_.path() / "out";
  EtlOptions options;
  options.threads = 1;
  options.chunk_bytes = 64 << 10;
  options.memory_limit = limit_for(1, options.chunk_bytes, 1, 64 << 10);
  try {
    run_etl(config, options);
    FAIL() << "the limit held a FULL window's history";
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    const std::string what = failure.what();
    EXPECT_NE(what.find("cannot hold the features of server"), std::string::npos) << what;
    EXPECT_NE(what.find("raise --memory-limit"), std::string::npos) << what;
  }
  EXPECT_EQ(testing::staging_left(config.output), std::vector<std::string>{});
}

}  // namespace
}  // namespace loadcast
