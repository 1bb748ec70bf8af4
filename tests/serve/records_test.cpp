// The wire format of feature records: what a client may leave out, and how
// each wrong type names its record and field.
#include <gtest/gtest.h>

#include <tuple>

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

namespace loadcast::serve {
namespace {

// The simdjson path must give exactly the rows of parse_record, and decline
// every body parse_record refuses so that the refusal names its field.
TEST(ServeRecordsFast, MatchesParseRecordOnGoodBodies) {
  FeatureRow row;
  row.server_ip = "10.0.0.9";
  row.hour = 1467363600;  // 2016-07-01 09:00:00
  row.calendar = calendar_of_hour(row.hour);
  row.linear_trend = 0.123456789012345;
  for (int i = 0; i < kNumLags; ++i) row.lags[i] = 0.1 * i + 1e-7 * i * i;
  for (int i = 0; i < kNumMeasures; ++i) row.rolling[i] = 3.3333333333333335 * (i + 1);
  json full = record_of(row);
  json sparse = {{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", 1467363600000}, {"Holiday", true},
                 {"peakLoadLag48", 17}, {"peakLoadLag49", nullptr}, {"key", "k\u00e9y"}, {"other", {{"x", 1}}},
                 {"month", 7.0}};
  const json body = json::array({full, sparse, full});
  const std::string text = body.dump();
  const auto fast = parse_records_fast(text, kOrigin, 100);
  ASSERT_TRUE(fast.has_value());
  ASSERT_EQ(fast->size(), body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    const ParsedRecord ref = parse_record(body[i], i, kOrigin);
    const ParsedRecord& got = (*fast)[i];
    EXPECT_EQ(got.key, ref.key);
    EXPECT_EQ(got.row.server_ip, ref.row.server_ip);
    EXPECT_EQ(got.row.hour, ref.row.hour);
    const Calendar& a = got.row.calendar;
    const Calendar& b = ref.row.calendar;
    EXPECT_EQ(std::tie(a.year, a.month, a.weekofyear, a.dayofmonth, a.hourofday, a.dayofweek, a.holiday,
                       a.business_hour, a.morning),
              std::tie(b.year, b.month, b.weekofyear, b.dayofmonth, b.hourofday, b.dayofweek, b.holiday,
                       b.business_hour, b.morning));
    EXPECT_EQ(got.row.linear_trend, ref.row.linear_trend);
    EXPECT_EQ(got.row.lags, ref.row.lags);
    EXPECT_EQ(got.row.rolling, ref.row.rolling);
  }
  // Duplicate keys: the last value wins, as in nlohmann.
  const auto dup = parse_records_fast(
      R"([{"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":1,"peakLoadLag48":2}])",
      kOrigin, 10);
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ((*dup)[0].row.lags[0], 2.0);
}

TEST(ServeRecordsFast, DeclinesWhatParseRecordRefuses) {
  const std::string ok = R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00"})";
  EXPECT_TRUE(parse_records_fast("[" + ok + "]", kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast("[" + ok + "," + ok + "]", kOrigin, 1).has_value());  // over the limit
  for (const char* bad : {
           R"({"ServerIP":"a"})",
           R"({"ServerIP":"","SessionStartHourTime":"2016-07-01 09:00:00"})",
           R"({"ServerIP":1,"SessionStartHourTime":"2016-07-01 09:00:00"})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:30:00"})",
           R"({"ServerIP":"a","SessionStartHourTime":1467363600500})",
           R"({"ServerIP":"a","SessionStartHourTime":1467363600000.0})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","month":13})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","month":6.5})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","month":true})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","Holiday":2})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","dayofweek":"Funday"})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","dayofweek":3})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":"1"})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":1e999})",
           R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","key":5})",
           R"([1])",
       }) {
    EXPECT_FALSE(parse_records_fast(std::string("[") + bad + "]", kOrigin, 10).has_value()) << bad;
    std::string text = std::string("[") + bad + "]";
    EXPECT_THROW(
        {
          const json body = json::parse(text);
          for (size_t i = 0; i < body.size(); ++i) parse_record(body[i], i, kOrigin);
        },
        std::exception)
        << bad;
  }
  EXPECT_FALSE(parse_records_fast("{}", kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast("[", kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast(std::string(40, '[') + std::string(40, ']'), kOrigin, 10).has_value());
}

}  // namespace
}  // namespace loadcast::serve
