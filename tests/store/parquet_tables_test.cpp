// The tables as Parquet (docs/outputs.md, "Formats"): written by the same
// run as CSV, they hold the same values, read back by loadcast, by DuckDB and
// by hyparquet (two independent readers, started for real); the bytes do not
// depend on threads or memory budget; the shares of a Parquet
// table hold each row once; train grows the forest of the CSV table; a
// damaged part is a data error naming it.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "config/config.h"
#include "etl/etl.h"
#include "store/tables.h"
#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 3> kTables = {"features", "hourly", "daily"};

class ParquetTablesTest : public ::testing::Test {
 protected:
  // The ETL of `config` into `name` as `format`.
  EtlReport etl(Config config, const std::string& name, TableFormat format, int threads = 2,
                size_t chunk_bytes = 4096, uint64_t memory_limit = 0) {
    config.output = temp_.path() / name;
    config.format = format;
    EtlOptions options;
    options.threads = threads;
    options.chunk_bytes = chunk_bytes;
    options.memory_limit = memory_limit;
    return run_etl(config, options);
  }

  Config golden() const { return load_config(fs::path(LOADCAST_GOLDEN_DIR) / "config.json"); }

  // A generated month of 40 servers with dirty lines.
  Config month() {
    std::string log;
    EXPECT_EQ(testing::write_generated_case(temp_.path() / "month",
                                            "--servers 40 --size 6M --seed 17", "", &log),
              0)
        << log;
    return load_config(temp_.path() / "month" / "config.json");
  }

  fs::path out(const std::string& name) const { return temp_.path() / name; }

  testing::TempDir temp_;
};

void expect_same_rows(const std::vector<FeatureRow>& csv, const std::vector<FeatureRow>& parquet) {
  const FeatureSchema& schema = default_feature_schema();
  ASSERT_EQ(csv.size(), parquet.size());
  for (size_t i = 0; i < csv.size(); ++i) {
    ASSERT_EQ(csv[i].server_ip, parquet[i].server_ip) << i;
    ASSERT_EQ(csv[i].hour, parquet[i].hour) << i;
    for (const FeatureColumn& c : schema.columns()) {
      if (c.type == ColumnType::kText || c.type == ColumnType::kTimestamp) continue;
      ASSERT_EQ(FeatureSchema::number(csv[i], c), FeatureSchema::number(parquet[i], c))
          << c.name << " of " << row_key(csv[i]);
    }
  }
}

void expect_same_stores(const fs::path& csv, const fs::path& parquet) {
  const auto a = read_stores(csv, default_feature_schema());
  const auto b = read_stores(parquet, default_feature_schema());
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].server_ip, b[s].server_ip);
    EXPECT_EQ(a[s].first_hour, b[s].first_hour);
    EXPECT_EQ(a[s].first_day, b[s].first_day);
    ASSERT_EQ(a[s].hours.size(), b[s].hours.size());
    for (size_t h = 0; h < a[s].hours.size(); ++h) {
      EXPECT_EQ(a[s].hours[h].peak, b[s].hours[h].peak) << a[s].server_ip << " hour " << h;
      EXPECT_EQ(a[s].hours[h].sessions, b[s].hours[h].sessions);
    }
    EXPECT_EQ(a[s].daily, b[s].daily) << a[s].server_ip;
  }
}

TEST_F(ParquetTablesTest, TheTablesHoldTheValuesOfTheCsvTables) {
  for (const auto& [name, config] : {std::pair{"golden", golden()}, std::pair{"month", month()}}) {
    SCOPED_TRACE(name);
    const EtlReport csv = etl(config, std::string(name) + "-csv", TableFormat::kCsv);
    const EtlReport parquet = etl(config, std::string(name) + "-parquet", TableFormat::kParquet);
    EXPECT_EQ(parquet.rows, csv.rows);
    EXPECT_EQ(parquet.summary.at("format"), "parquet");
    for (const char* table : kTables)
      for (const auto& file : partition_files(out(std::string(name) + "-parquet") / table))
        EXPECT_EQ(file.extension(), ".parquet") << file;
    expect_same_rows(
        read_feature_table(out(std::string(name) + "-csv") / "features", default_feature_schema()),
        read_feature_table(out(std::string(name) + "-parquet") / "features",
                           default_feature_schema()));
    expect_same_stores(out(std::string(name) + "-csv"), out(std::string(name) + "-parquet"));
  }
}

TEST_F(ParquetTablesTest, DuckDbAndHyparquetReadTheCsvValuesCellForCell) {
  for (const auto& [name, config] : {std::pair{"golden", golden()}, std::pair{"month", month()}}) {
    SCOPED_TRACE(name);
    const EtlReport csv = etl(config, std::string(name) + "-csv", TableFormat::kCsv);
    etl(config, std::string(name) + "-parquet", TableFormat::kParquet);
    const fs::path report = out(std::string(name) + "-peers.json");
    std::string log;
    const int code = testing::run_shell(
        "node " + std::string(LOADCAST_TESTS_DIR) + "/peers/compare_parquet.mjs " +
            out(std::string(name) + "-csv").string() + " " +
            out(std::string(name) + "-parquet").string() + " > " + report.string(),
        &log);
    const std::string text = testing::read_text(report);
    EXPECT_EQ(code, 0) << log << text;
    const nlohmann::json peers = nlohmann::json::parse(text);
    for (const char* reader : {"duckdb", "hyparquet"}) {
      const nlohmann::json& tables = peers.at("readers").at(reader);
      EXPECT_EQ(tables.at("features").at("rows"), csv.rows) << reader;
      EXPECT_EQ(tables.at("daily").at("rows"), csv.daily_rows) << reader;
      EXPECT_EQ(tables.at("features").at("cells"),
                csv.rows * default_feature_schema().num_columns())
          << reader;
      for (const char* table : kTables)
        EXPECT_EQ(tables.at(table).at("mismatches"), nlohmann::json::array())
            << reader << " " << table;
    }
  }
}

// (As for CSV, the chunk size is kept: it may change the last bits of float
// sums.)
TEST_F(ParquetTablesTest, TheBytesAreTheSameForAnyThreadsAndBudget) {
  const Config config = month();
  constexpr size_t kChunk = 64 << 10;
  etl(config, "base", TableFormat::kParquet, 1, kChunk);
  std::map<std::string, std::string> expected;
  for (const char* table : kTables)
    for (const auto& [path, bytes] : testing::snapshot(out("base") / table))
      expected[table + path] = bytes;
  ASSERT_FALSE(expected.empty());
  struct Run {
    int threads;
    uint64_t limit;
  };
  constexpr TableFormat kParquet = TableFormat::kParquet;
  for (const Run run :
       {Run{2, 0}, Run{1, reading_memory_bytes(1, kChunk, 1, kParquet) + (64 << 10)},
        Run{2, reading_memory_bytes(2, kChunk, 1, kParquet) + (64 << 10)}}) {
    const std::string name = "run-" + std::to_string(run.threads) + "-" + std::to_string(run.limit);
    const EtlReport report =
        etl(config, name, TableFormat::kParquet, run.threads, kChunk, run.limit);
    if (run.limit > 0) {
      EXPECT_GT(report.spill.runs, 0) << "the small budget did not spill";
    }
    std::map<std::string, std::string> got;
    for (const char* table : kTables)
      for (const auto& [path, bytes] : testing::snapshot(out(name) / table))
        got[table + path] = bytes;
    EXPECT_TRUE(got == expected) << name;
  }
}

TEST_F(ParquetTablesTest, TheSharesOfATableHoldEachRowOnce) {
  etl(month(), "parquet", TableFormat::kParquet);
  const fs::path dir = out("parquet") / "features";
  const auto whole = read_feature_table(dir, default_feature_schema());
  ASSERT_GT(whole.size(), 1000u);
  for (const int shares : {2, 3, 7, 200}) {
    std::vector<std::string> all;
    for (int share = 0; share < shares; ++share)
      for (const FeatureRow& row : read_feature_table(dir, default_feature_schema(), share, shares))
        all.push_back(row_key(row));
    std::sort(all.begin(), all.end());
    std::vector<std::string> keys;
    keys.reserve(whole.size());
    for (const FeatureRow& row : whole) keys.push_back(row_key(row));
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(all, keys) << shares << " shares";
  }
}

TEST_F(ParquetTablesTest, TrainGrowsTheForestOfTheCsvTable) {
  const Config config = month();
  for (const char* format : {"csv", "parquet"}) {
    const std::string o = out(format).string();
    const auto etl_run =
        testing::run_program("etl " + (temp_.path() / "month/config.json").string() + " --format " +
                             format + " --output " + o);
    ASSERT_EQ(etl_run.exit_code, 0) << etl_run.output;
    EXPECT_NE(etl_run.output.find(std::string("(") + format + ")"), std::string::npos)
        << etl_run.output;
    const auto train = testing::run_program(
        "train " + (temp_.path() / "month/config.json").string() + " --threads 2 --output " + o);
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  for (const char* file : {"model/forest.json", "model/encoder.json"})
    EXPECT_EQ(testing::read_text(out("parquet") / file), testing::read_text(out("csv") / file))
        << file;
}

TEST_F(ParquetTablesTest, ADamagedPartIsADataErrorNamingIt) {
  etl(golden(), "parquet", TableFormat::kParquet);
  const fs::path part = partition_files(out("parquet") / "hourly").front();
  const std::string bytes = testing::read_text(part);
  testing::write_text(part, bytes.substr(0, bytes.size() / 2));
  try {
    read_stores(out("parquet"), default_feature_schema());
    FAIL() << "a cut part was read";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find(part.string()), std::string::npos) << f.what();
  }
  // A feature table whose column holds another type than loadcast writes.
  const fs::path features = partition_files(out("parquet") / "features").front();
  {
    parquet::FileWriter writer(features, {{"key", parquet::PhysicalType::kInt64}});
    writer.close();
  }
  try {
    read_feature_table(out("parquet") / "features", default_feature_schema());
    FAIL() << "a table of other types was read";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find("holds an integer, not text"), std::string::npos)
        << f.what();
  }
}

TEST_F(ParquetTablesTest, AStoreWhoseHoursAreNotADenseGridIsADataError) {
  // Two rows of one server a century apart: not a grid an etl writes, and
  // not one to allocate whole.
  const FeatureSchema& schema = default_feature_schema();
  const fs::path root = out("sparse");
  {
    PartitionedTableWriter writer(root / "hourly", Table::kHourly, schema, TableFormat::kParquet);
    MonthlyRows rows = writer.rows();
    ServerHistory h;
    h.server_ip = "10.0.0.1";
    h.first_hour = 0;
    h.hours.resize(2);
    write_hourly_store(rows, h, 0, 1);
    h.first_hour = int64_t{24} * 365 * 100;
    write_hourly_store(rows, h, 0, 1);
    writer.append(rows);
    writer.close();
  }
  try {
    read_stores(root, schema);
    FAIL() << "a sparse store was read";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find("the rows of server 10.0.0.1 are not a dense grid (2 "
                                         "rows for the 876001 hours"),
              std::string::npos)
        << f.what();
  }
}

}  // namespace
}  // namespace loadcast
