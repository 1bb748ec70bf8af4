// The wire format of feature records: what a client may leave out, and how
// each wrong type names its record and field.
#include <gtest/gtest.h>

#include "features/calendar.h"
#include "serve/records.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

const TimeNs kOrigin = *parse_timestamp("2016-06-01 00:00:00");

int status_of(const json& record, std::string* message = nullptr) {
  try {
    parse_record(record, 7, kOrigin);
    return 200;
  } catch (const RequestError& e) {
    if (message) *message = e.what();
    return e.status();
  }
}

TEST(ServeRecords, MissingCalendarTrendAndLagsAreDerivedOrZero) {
  const auto parsed = parse_record(json{{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", "2016-07-04 09:00:00"}}, 0, kOrigin);
  const FeatureRow& row = parsed.row;
  EXPECT_EQ(parsed.key, "10.0.0.1_2016-07-04 09:00:00");
  const Calendar expected = calendar_of_hour(row.hour);
  EXPECT_EQ(row.calendar.year, 2016);
  EXPECT_EQ(row.calendar.dayofweek, expected.dayofweek);
  EXPECT_TRUE(row.calendar.holiday);  // Independence Day
  EXPECT_TRUE(row.calendar.morning);
  EXPECT_NEAR(row.linear_trend, (33 * 24 + 9) / (365.25 * 24), 1e-12);
  for (double lag : row.lags) EXPECT_EQ(lag, 0.0);
  for (double r : row.rolling) EXPECT_EQ(r, 0.0);
}

TEST(ServeRecords, RoundTripsAFeatureRow) {
  FeatureRow row;
  row.server_ip = "2001:db8::7";
  row.hour = seconds_of(*parse_timestamp("2016-07-02 13:00:00"));
  row.calendar = calendar_of_hour(row.hour);
  row.linear_trend = 0.0123;
  for (int i = 0; i < kNumLags; ++i) row.lags[i] = i * 1.5;
  for (int i = 0; i < kNumMeasures; ++i) row.rolling[i] = 100 + i;
  const auto back = parse_record(json::parse(record_of(row).dump()), 0, kOrigin).row;
  EXPECT_EQ(back.server_ip, row.server_ip);
  EXPECT_EQ(back.hour, row.hour);
  EXPECT_EQ(back.linear_trend, row.linear_trend);
  EXPECT_EQ(back.lags, row.lags);
  EXPECT_EQ(back.rolling, row.rolling);
  for (int c = 0; c < kNumCategorical; ++c) EXPECT_EQ(categorical_value(back, c), categorical_value(row, c)) << c;
}

TEST(ServeRecords, AcceptsPandasShapes) {
  // Epoch milliseconds, integral floats, booleans for flags, null lags.
  const json record = {{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", 1467331200000},
                       {"year", 2016.0},         {"Holiday", true},
                       {"dayofweek", "friday"},  {"peakLoadLag48", nullptr}};
  const auto row = parse_record(record, 0, kOrigin).row;
  EXPECT_EQ(format_timestamp(row.hour), "2016-07-01 00:00:00");
  EXPECT_TRUE(row.calendar.holiday);
  EXPECT_EQ(row.calendar.dayofweek, 4);
  EXPECT_EQ(row.lags[0], 0.0);
}

TEST(ServeRecords, ErrorsNameTheRecordAndField) {
  const json base = {{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", "2016-07-01 00:00:00"}};
  struct Case {
    const char* field;
    json value;
  };
  const Case cases[] = {
      {"ServerIP", 5},           {"ServerIP", ""},          {"SessionStartHourTime", "yesterday"},
      {"SessionStartHourTime", "2016-07-01 00:30:00"},      {"SessionStartHourTime", true},
      {"month", 13},             {"month", "7"},            {"hourofday", 1.5},
      {"dayofweek", "Funday"},   {"dayofweek", 3},          {"Holiday", 2},
      {"linearTrend", "0"},      {"peakLoadLag48", "12"},   {"peakBytesDailyLag2Win7", json::array()},
      {"key", 12},
  };
  for (const Case& c : cases) {
    json record = base;
    record[c.field] = c.value;
    std::string message;
    EXPECT_EQ(status_of(record, &message), 400) << c.field << " = " << c.value.dump();
    EXPECT_NE(message.find("record 7"), std::string::npos) << message;
    EXPECT_NE(message.find(c.field), std::string::npos) << message;
  }
  json missing = base;
  missing.erase("ServerIP");
  EXPECT_EQ(status_of(missing), 400);
  EXPECT_EQ(status_of(json::array()), 400);
  EXPECT_EQ(status_of(base), 200);
}

}  // namespace
}  // namespace loadcast::serve
