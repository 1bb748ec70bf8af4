#include "parquet/file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "common/error.h"
#include "parquet/thrift.h"
#include "support/csv.h"

namespace loadcast::parquet {
namespace {

namespace fs = std::filesystem;

std::vector<Column> sample_columns() {
  return {{"ServerIP", PhysicalType::kByteArray, LogicalType::kString},
          {"hour", PhysicalType::kInt64, LogicalType::kTimestampMicros},
          {"day", PhysicalType::kInt32, LogicalType::kDate},
          {"peak", PhysicalType::kDouble, LogicalType::kNone},
          {"sessions", PhysicalType::kInt64, LogicalType::kNone}};
}

// Rows i in [begin, end) of a table whose values follow from i.
std::vector<ColumnValues> sample_rows(int begin, int end) {
  std::vector<ColumnValues> c(5);
  for (int i = begin; i < end; ++i) {
    c[0].put_text("10.0.0." + std::to_string(i % 300));
    c[1].put_int64(int64_t{1464739200} * 1000000 + int64_t{i} * 3600000000);
    c[2].put_int32(16953 + i / 24);
    c[3].put_double(i * 0.1);
    c[4].put_int64(-i);
  }
  return c;
}

void expect_sample(const FileReader& reader, int rows) {
  int i = 0;
  for (size_t g = 0; g < reader.row_groups(); ++g) {
    std::vector<ColumnData> data(5);
    for (int c = 0; c < 5; ++c) data[static_cast<size_t>(c)] = reader.read(g, c);
    for (int64_t r = 0; r < reader.rows(g); ++r, ++i) {
      const auto k = static_cast<size_t>(r);
      ASSERT_EQ(data[0].text(k), "10.0.0." + std::to_string(i % 300));
      ASSERT_EQ(data[1].int64(k), int64_t{1464739200} * 1000000 + int64_t{i} * 3600000000);
      ASSERT_EQ(data[2].int32(k), 16953 + i / 24);
      ASSERT_EQ(data[3].real(k), i * 0.1);
      ASSERT_EQ(data[4].int64(k), -i);
    }
  }
  EXPECT_EQ(i, rows);
}

TEST(ParquetFile, RowGroupsReadBackValueForValue) {
  testing::TempDir temp;
  const fs::path path = temp.path() / "t.parquet";
  FileWriter writer(path, sample_columns());
  writer.append(sample_rows(0, 1000));
  writer.end_row_group();
  writer.append(sample_rows(1000, 1500));
  writer.append(sample_rows(1500, 2500));
  writer.close();

  const FileReader reader(path);
  ASSERT_EQ(reader.columns().size(), 5u);
  EXPECT_EQ(reader.columns()[0].name, "ServerIP");
  EXPECT_EQ(reader.columns()[0].logical, LogicalType::kString);
  EXPECT_EQ(reader.columns()[1].logical, LogicalType::kTimestampMicros);
  EXPECT_EQ(reader.columns()[2].logical, LogicalType::kDate);
  EXPECT_EQ(reader.columns()[3].type, PhysicalType::kDouble);
  EXPECT_EQ(reader.find("sessions"), 4);
  EXPECT_EQ(reader.find("nothing"), -1);
  ASSERT_EQ(reader.row_groups(), 2u);
  EXPECT_EQ(reader.rows(0), 1000);
  EXPECT_EQ(reader.rows(1), 1500);
  expect_sample(reader, 2500);
}

TEST(ParquetFile, AnEmptyTableHasItsColumnsAndNoRowGroup) {
  testing::TempDir temp;
  const fs::path path = temp.path() / "t.parquet";
  FileWriter writer(path, sample_columns());
  writer.close();
  const FileReader reader(path);
  EXPECT_EQ(reader.columns().size(), 5u);
  EXPECT_EQ(reader.row_groups(), 0u);
}

TEST(ParquetFile, EveryCutOrFlippedByteIsAnErrorOrTheSameValues) {
  testing::TempDir temp;
  const fs::path path = temp.path() / "t.parquet";
  FileWriter writer(path, sample_columns());
  writer.append(sample_rows(0, 50));
  writer.close();
  const std::string bytes = testing::read_text(path);
  const fs::path bad = temp.path() / "bad.parquet";
  auto read_all = [&](const std::string& content) {
    std::ofstream(bad, std::ios::binary) << content;
    try {
      const FileReader reader(bad);
      for (size_t g = 0; g < reader.row_groups(); ++g)
        for (int c = 0; c < static_cast<int>(reader.columns().size()); ++c) reader.read(g, c);
      return std::string();
    } catch (const Failure& f) {
      EXPECT_EQ(f.code(), ExitCode::kData);
      EXPECT_NE(std::string(f.what()).find(bad.string()), std::string::npos) << f.what();
      EXPECT_EQ(std::string(f.what()).find('\n'), std::string::npos) << f.what();
      return std::string(f.what());
    }
  };
  EXPECT_NE(read_all(bytes.substr(0, bytes.size() - 1)), "");
  EXPECT_NE(read_all("PAR1PAR1"), "");
  EXPECT_NE(read_all(std::string(100, 'x')), "");
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    read_all(flipped);  // any answer but a crash
    read_all(bytes.substr(0, at));
  }
}

TEST(Thrift, StructsReadBackWithLongListsAndFarFieldIds) {
  ThriftWriter w;
  w.i32(1, -7);
  w.i64(20, int64_t{1} << 40);
  w.boolean(21, true);
  w.begin_list(22, ThriftType::kBinary, 20);
  for (int i = 0; i < 20; ++i) w.element_binary(std::to_string(i));
  w.begin_struct(23);
  w.binary(1, "inner");
  w.end_struct();
  const std::string bytes = w.finish();
  size_t used = 0;
  const auto v = read_thrift_struct(bytes, &used);
  ASSERT_TRUE(v);
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(v->field(1)->integer, -7);
  EXPECT_EQ(v->field(20)->integer, int64_t{1} << 40);
  EXPECT_EQ(v->field(21)->integer, 1);
  ASSERT_EQ(v->field(22)->items.size(), 20u);
  EXPECT_EQ(v->field(22)->items[19].binary, "19");
  EXPECT_EQ(v->field(23)->field(1)->binary, "inner");
  EXPECT_FALSE(read_thrift_struct(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(read_thrift_struct(std::string(100, '\x1c')));  // struct in struct, endlessly
}

}  // namespace
}  // namespace loadcast::parquet
