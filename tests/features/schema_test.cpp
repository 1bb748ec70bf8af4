// The feature schema drives every reader and writer of feature rows: the
// table's writer and reader, both request parsers, record_of and the
// encoder. A schema with one more lag flows through all of them unchanged.
#include "features/schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "encode/encoder.h"
#include "features/engine.h"
#include "serve/records.h"
#include "store/tables.h"
#include "support/csv.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const TimeNs kOrigin = *parse_timestamp("2016-07-01 00:00:00");

// A server with 40 days of hourly peaks that differ in every measure.
ServerHistory history_of(const std::string& ip) {
  std::vector<ServerBucket> buckets;
  const int64_t first = floor_div(seconds_of(kOrigin), 300);
  for (int64_t h = 0; h < 40 * 24; ++h) {
    BucketSums sums;
    for (int m = 0; m < kNumMeasures; ++m)
      sums.sum[m] = 10 + static_cast<double>((h * 37 + m * 11) % 997) / 4;
    sums.sessions = 1 + h % 9;
    buckets.push_back({first + h * 12, sums});
  }
  return history_from_buckets(ip, buckets);
}

std::vector<FeatureRow> rows_of(const FeatureSchema& schema) {
  FeatureParams params;
  params.schema = &schema;
  params.train_begin = kOrigin;
  params.low_threshold = 100;
  params.high_threshold = 200;
  std::vector<FeatureRow> rows;
  for (const char* ip : {"10.0.0.1", "2001:db8::7"}) {
    const ServerHistory history = history_of(ip);
    for_each_grid_row(history, params, 0, history.hours.size(),
                      [&](const FeatureRow& row) { rows.push_back(row); });
  }
  return rows;
}

// Every column of two rows, as the schema reads them.
void expect_same_row(const FeatureSchema& schema, const FeatureRow& a, const FeatureRow& b) {
  EXPECT_EQ(a.server_ip, b.server_ip);
  EXPECT_EQ(a.hour, b.hour);
  for (const FeatureColumn& c : schema.columns()) {
    if (c.type == ColumnType::kText || c.type == ColumnType::kTimestamp) continue;
    EXPECT_EQ(FeatureSchema::number(a, c), FeatureSchema::number(b, c))
        << c.name << " of " << row_key(a);
  }
}

std::vector<FeatureRow> write_and_read(const FeatureSchema& schema,
                                       const std::vector<FeatureRow>& rows, const fs::path& dir,
                                       TableFormat format = TableFormat::kCsv) {
  {
    PartitionedTableWriter writer(dir, Table::kFeatures, schema, format);
    MonthlyRows formatted = writer.rows();
    for (const FeatureRow& row : rows) append_feature_row(formatted, row, schema);
    writer.append(formatted);
    writer.close();
  }
  return read_feature_table(dir, schema);
}

TEST(FeatureSchema, ColumnsOfTheDefaultTable) {
  const FeatureSchema& s = default_feature_schema();
  const std::vector<std::string> names = s.names();
  EXPECT_EQ(names.size(), 43u);
  EXPECT_EQ(names.front(), "key");
  EXPECT_EQ(names.back(), "label");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  // Encoding order: dayofweek first, then ServerIP and the calendar numbers.
  std::vector<std::string> categorical;
  for (int c : s.categorical()) categorical.push_back(s.column(c).name);
  EXPECT_EQ(categorical, (std::vector<std::string>{"dayofweek", "ServerIP", "year", "month",
                                                   "weekofyear", "dayofmonth", "hourofday",
                                                   "Holiday", "BusinessHour", "Morning"}));
  EXPECT_EQ(s.num_scaled(), 20);
  EXPECT_EQ(s.scaled_name(0), "peakLoadLag48");
  EXPECT_EQ(s.scaled_name(11), "peakLoadLag730");
  EXPECT_EQ(s.scaled_name(12), "peakLoadDailyLag2Win7");
  EXPECT_EQ(s.scaled_name(19), "peakLoadSecureDailyLag2Win7");
  // The stores name their columns as the feature table does.
  EXPECT_EQ(s.hourly_store_names().size(), 2u + kNumMeasures + 1);
  EXPECT_EQ(s.hourly_store_names()[2], "peakLoad");
  EXPECT_EQ(s.daily_store_names()[1], "SessionStartDay");
  EXPECT_EQ(s.daily_store_names()[2], "peakLoadDaily");
}

TEST(FeatureSchema, TheGoldenTableHasTheSchemasHeader) {
  const std::string text =
      testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "expected/features.csv");
  const std::string header = text.substr(0, text.find('\n'));
  std::string expected;
  for (const auto& name : default_feature_schema().names())
    expected += (expected.empty() ? "" : ",") + name;
  EXPECT_EQ(header, expected);
}

TEST(FeatureSchema, WriterAndReaderAgreeOnEveryColumnInBothFormats) {
  testing::TempDir temp;
  const FeatureSchema& schema = default_feature_schema();
  const std::vector<FeatureRow> rows = rows_of(schema);
  std::vector<FeatureRow> sorted = rows;
  std::sort(sorted.begin(), sorted.end(), [](const FeatureRow& a, const FeatureRow& b) {
    return a.server_ip != b.server_ip ? a.server_ip < b.server_ip : a.hour < b.hour;
  });
  for (const TableFormat format : {TableFormat::kCsv, TableFormat::kParquet}) {
    SCOPED_TRACE(std::string(table_format_name(format)));
    const std::vector<FeatureRow> back =
        write_and_read(schema, rows, temp.path() / table_format_name(format), format);
    ASSERT_EQ(back.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) expect_same_row(schema, sorted[i], back[i]);
  }
}

// The same record as /score reads it (simdjson) and as /invocations reads
// it (nlohmann, dataframe_records and dataframe_split) gives one row and
// one encoded vector.
TEST(FeatureSchema, BothRequestParsersGiveTheSameEncodedRow) {
  const FeatureSchema& schema = default_feature_schema();
  const std::vector<FeatureRow> rows = rows_of(schema);
  Encoder encoder;
  encoder.fit(rows, schema);
  for (const size_t pick : {size_t{0}, size_t{500}, rows.size() - 1}) {
    for (const bool full : {true, false}) {
      json record = serve::record_of(rows[pick], schema, full);
      if (!full) {
        for (const char* dropped : {"year", "Holiday", "dayofweek", "peakLoadLag60"})
          record.erase(dropped);
      }
      const std::string body = json::array({record}).dump();
      const auto fast = serve::parse_records_fast(body, schema, kOrigin, 10);
      ASSERT_TRUE(fast.has_value()) << body;
      const serve::ParsedRecord checked = serve::parse_record(record, 0, schema, kOrigin);
      // dataframe_split: the columns and one row of values, as /invocations builds it.
      json split = json::object();
      for (auto it = record.begin(); it != record.end(); ++it) split[it.key()] = it.value();
      const serve::ParsedRecord from_split = serve::parse_record(split, 0, schema, kOrigin);

      std::vector<double> a(encoder.num_features()), b(encoder.num_features()),
          c(encoder.num_features());
      encoder.transform((*fast)[0].row, a);
      encoder.transform(checked.row, b);
      encoder.transform(from_split.row, c);
      EXPECT_EQ(a, b) << body;
      EXPECT_EQ(b, c) << body;
      expect_same_row(schema, (*fast)[0].row, checked.row);
      EXPECT_EQ((*fast)[0].key, checked.key);
      if (full) {
        std::vector<double> original(encoder.num_features());
        FeatureRow expected = rows[pick];
        expected.current = {};  // a record carries no peaks or label
        expected.label = 0;
        encoder.transform(expected, original);
        EXPECT_EQ(a, original);
      }
    }
  }
}

// One more lag (24 hours) is one more entry in the schema's lag list; the
// engine computes it, the table carries it, the records accept it and the
// encoder scales it, without another change anywhere.
TEST(FeatureSchema, AnExtraLagFlowsThroughEveryPart) {
  std::vector<int> lags = kDefaultHourlyLags;
  lags.push_back(24);
  const FeatureSchema schema(lags);
  ASSERT_EQ(schema.num_columns(), default_feature_schema().num_columns() + 1);
  const int column = schema.find("peakLoadLag24");
  ASSERT_GE(column, 0);
  EXPECT_EQ(schema.column(column).role, ColumnRole::kLag);

  // The engine: 24 hours earlier, 0 before the grid.
  const std::vector<FeatureRow> rows = rows_of(schema);
  const ServerHistory history = history_of("10.0.0.1");
  for (const size_t i : {size_t{10}, size_t{30}, size_t{700}}) {
    const double expected = i >= 24 ? history.hours[i - 24].peak[0] : 0.0;
    EXPECT_EQ(FeatureSchema::number(rows[i], schema.column(column)), expected) << i;
  }

  // The table: written and read back, the header names it.
  testing::TempDir temp;
  const std::vector<FeatureRow> back = write_and_read(schema, rows, temp.path() / "features");
  ASSERT_EQ(back.size(), rows.size());
  for (size_t i = 0; i < rows.size(); i += 97) expect_same_row(schema, rows[i], back[i]);
  const std::string text = testing::read_text(partition_files(temp.path() / "features").front());
  EXPECT_NE(text.substr(0, text.find('\n')).find(",peakLoadLag24,"), std::string::npos);
  // A reader of the default schema reads its columns of this table; a reader
  // of the extended schema refuses a default table, naming the column.
  EXPECT_EQ(read_feature_table(temp.path() / "features", default_feature_schema()).size(),
            rows.size());
  write_and_read(default_feature_schema(), rows, temp.path() / "plain");
  try {
    read_feature_table(temp.path() / "plain", schema);
    ADD_FAILURE() << "a table without peakLoadLag24 was read";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("no column 'peakLoadLag24'"), std::string::npos)
        << f.what();
  }

  // The records: the field is read by both parsers.
  json record = serve::record_of(rows[100], schema);
  EXPECT_EQ(record["peakLoadLag24"].get<double>(), rows[100].lags[12]);
  record["peakLoadLag24"] = 123.5;
  const auto checked = serve::parse_record(record, 0, schema, kOrigin);
  EXPECT_EQ(checked.row.lags[12], 123.5);
  const auto fast = serve::parse_records_fast(json::array({record}).dump(), schema, kOrigin, 1);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ((*fast)[0].row.lags[12], 123.5);

  // The encoder: one more scaled feature, named, scaled, and kept in its
  // JSON, from which the schema comes back.
  Encoder encoder;
  encoder.fit(rows, schema);
  Encoder plain;
  plain.fit(rows, default_feature_schema());
  EXPECT_EQ(encoder.num_features(), plain.num_features() + 1);
  const auto& names = encoder.feature_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "peakLoadLag24"), names.end());
  const Encoder loaded = Encoder::from_json(encoder.to_json());
  EXPECT_EQ(loaded.schema().lags(), lags);
  EXPECT_EQ(loaded.feature_names(), names);
  std::vector<double> v(encoder.num_features()), w(encoder.num_features());
  encoder.transform(checked.row, v);
  loaded.transform(checked.row, w);
  EXPECT_EQ(v, w);
}

TEST(FeatureSchema, ScaledNamesGiveBackTheSchema) {
  const FeatureSchema& s = default_feature_schema();
  std::vector<std::string> names;
  for (int i = 0; i < s.num_scaled(); ++i) names.push_back(s.scaled_name(i));
  const auto back = FeatureSchema::from_scaled_names(names);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->lags(), s.lags());
  names.erase(names.begin() + 13);  // a rolling mean missing
  EXPECT_FALSE(FeatureSchema::from_scaled_names(names).has_value());
  EXPECT_FALSE(FeatureSchema::from_scaled_names({"peakLoadLagX"}).has_value());
}

TEST(FeatureSchema, CellsOfEveryTypeRoundTrip) {
  const FeatureSchema& s = default_feature_schema();
  FeatureRow row = rows_of(s)[77];
  row.linear_trend = 0.1 + 0.2;  // needs 17 digits
  std::string line;
  s.append_csv(line, row);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  std::vector<std::string> cells;
  for (size_t at = 0;;) {
    const size_t comma = line.find(',', at);
    cells.push_back(line.substr(at, comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  ASSERT_EQ(cells.size(), static_cast<size_t>(s.num_columns()));
  FeatureRow back;
  for (int c = 0; c < s.num_columns(); ++c)
    ASSERT_TRUE(FeatureSchema::read_cell(cells[static_cast<size_t>(c)], back, s.column(c)))
        << s.column(c).name << " '" << cells[static_cast<size_t>(c)] << "'";
  expect_same_row(s, row, back);
  EXPECT_EQ(cells[0], row_key(row));
  FeatureRow scratch;
  EXPECT_FALSE(FeatureSchema::read_cell("Funday", scratch, s.column(s.find("dayofweek"))));
  EXPECT_FALSE(FeatureSchema::read_cell("x", scratch, s.column(s.find("peakLoad"))));
  EXPECT_FALSE(FeatureSchema::read_cell("2016-13-01 00:00:00", scratch,
                                        s.column(s.find("SessionStartHourTime"))));
}

}  // namespace
}  // namespace loadcast
