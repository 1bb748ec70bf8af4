// The wire format of feature records: what a client may leave out, and how
// each wrong type names its record and field.
#include "serve/records.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <random>
#include <tuple>

#include "features/calendar.h"

namespace loadcast::serve {
namespace {

using nlohmann::json;

const TimeNs kOrigin = *parse_timestamp("2016-06-01 00:00:00");

int status_of(const json& record, std::string* message = nullptr) {
  try {
    parse_record(record, 7, default_feature_schema(), kOrigin);
    return 200;
  } catch (const RequestError& e) {
    if (message) *message = e.what();
    return e.status();
  }
}

TEST(ServeRecords, MissingCalendarTrendAndLagsAreDerivedOrZero) {
  const auto parsed =
      parse_record(json{{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", "2016-07-04 09:00:00"}},
                   0, default_feature_schema(), kOrigin);
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
  for (int i = 0; i < default_feature_schema().num_lags(); ++i) row.lags[i] = i * 1.5;
  for (int i = 0; i < kNumMeasures; ++i) row.rolling[i] = 100 + i;
  const auto back = parse_record(json::parse(record_of(row, default_feature_schema()).dump()), 0,
                                 default_feature_schema(), kOrigin)
                        .row;
  EXPECT_EQ(back.server_ip, row.server_ip);
  EXPECT_EQ(back.hour, row.hour);
  EXPECT_EQ(back.linear_trend, row.linear_trend);
  EXPECT_EQ(back.lags, row.lags);
  EXPECT_EQ(back.rolling, row.rolling);
  for (int c = 0; c < static_cast<int>(default_feature_schema().categorical().size()); ++c)
    EXPECT_EQ(default_feature_schema().categorical_value(back, c),
              default_feature_schema().categorical_value(row, c))
        << c;
}

TEST(ServeRecords, AcceptsPandasShapes) {
  // Epoch milliseconds, integral floats, booleans for flags, null lags.
  const json record = {{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", 1467331200000},
                       {"year", 2016.0},         {"Holiday", true},
                       {"dayofweek", "friday"},  {"peakLoadLag48", nullptr}};
  const auto row = parse_record(record, 0, default_feature_schema(), kOrigin).row;
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
      {"ServerIP", 5},
      {"ServerIP", ""},
      {"SessionStartHourTime", "yesterday"},
      {"SessionStartHourTime", "2016-07-01 00:30:00"},
      {"SessionStartHourTime", true},
      {"month", 13},
      {"month", "7"},
      {"hourofday", 1.5},
      {"dayofweek", "Funday"},
      {"dayofweek", 3},
      {"Holiday", 2},
      {"linearTrend", "0"},
      {"peakLoadLag48", "12"},
      {"peakBytesDailyLag2Win7", json::array()},
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

// The simdjson On Demand path must give exactly the rows of parse_record,
// and decline every body parse_record refuses so that the refusal names its
// field.
TEST(ServeRecordsFast, MatchesParseRecordOnGoodBodies) {
  FeatureRow row;
  row.server_ip = "10.0.0.9";
  row.hour = 1467363600;  // 2016-07-01 09:00:00
  row.calendar = calendar_of_hour(row.hour);
  row.linear_trend = 0.123456789012345;
  for (int i = 0; i < default_feature_schema().num_lags(); ++i)
    row.lags[i] = 0.1 * i + 1e-7 * i * i;
  for (int i = 0; i < kNumMeasures; ++i) row.rolling[i] = 3.3333333333333335 * (i + 1);
  json full = record_of(row, default_feature_schema());
  json sparse = {{"ServerIP", "10.0.0.1"},   {"SessionStartHourTime", 1467363600000},
                 {"Holiday", true},          {"peakLoadLag48", 17},
                 {"peakLoadLag49", nullptr}, {"key", "k\u00e9y"},
                 {"other", {{"x", 1}}},      {"month", 7.0}};
  const json body = json::array({full, sparse, full});
  const std::string text = body.dump();
  const auto fast = parse_records_fast(text, default_feature_schema(), kOrigin, 100);
  ASSERT_TRUE(fast.has_value());
  ASSERT_EQ(fast->size(), body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    const ParsedRecord ref = parse_record(body[i], i, default_feature_schema(), kOrigin);
    const ParsedRecord& got = (*fast)[i];
    EXPECT_EQ(got.key, ref.key);
    EXPECT_EQ(got.row.server_ip, ref.row.server_ip);
    EXPECT_EQ(got.row.hour, ref.row.hour);
    const Calendar& a = got.row.calendar;
    const Calendar& b = ref.row.calendar;
    EXPECT_EQ(std::tie(a.year, a.month, a.weekofyear, a.dayofmonth, a.hourofday, a.dayofweek,
                       a.holiday, a.business_hour, a.morning),
              std::tie(b.year, b.month, b.weekofyear, b.dayofmonth, b.hourofday, b.dayofweek,
                       b.holiday, b.business_hour, b.morning));
    EXPECT_EQ(got.row.linear_trend, ref.row.linear_trend);
    EXPECT_EQ(got.row.lags, ref.row.lags);
    EXPECT_EQ(got.row.rolling, ref.row.rolling);
  }
  // Duplicate keys: the last value wins, as in nlohmann.
  const auto dup = parse_records_fast(
      R"([{"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":1,"peakLoadLag48":2}])",
      default_feature_schema(), kOrigin, 10);
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ((*dup)[0].row.lags[0], 2.0);
}

TEST(ServeRecordsFast, DeclinesWhatParseRecordRefuses) {
  const std::string ok = R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00"})";
  EXPECT_TRUE(
      parse_records_fast("[" + ok + "]", default_feature_schema(), kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast("[" + ok + "," + ok + "]", default_feature_schema(), kOrigin, 1)
                   .has_value());  // over the limit
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
    EXPECT_FALSE(
        parse_records_fast(std::string("[") + bad + "]", default_feature_schema(), kOrigin, 10)
            .has_value())
        << bad;
    std::string text = std::string("[") + bad + "]";
    EXPECT_THROW(
        {
          const json body = json::parse(text);
          for (size_t i = 0; i < body.size(); ++i)
            parse_record(body[i], i, default_feature_schema(), kOrigin);
        },
        std::exception)
        << bad;
  }
  EXPECT_FALSE(parse_records_fast("{}", default_feature_schema(), kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast("[", default_feature_schema(), kOrigin, 10).has_value());
  EXPECT_FALSE(parse_records_fast(std::string(40, '[') + std::string(40, ']'),
                                  default_feature_schema(), kOrigin, 10)
                   .has_value());
}

// On Demand reads only what is asked for: ignored fields and what follows
// the array must still be JSON, as nlohmann requires.
TEST(ServeRecordsFast, DeclinesMalformedJsonAnywhere) {
  const std::string ok = R"({"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00")";
  for (const std::string& bad : {
           "[" + ok + R"(,"extra":tru}])",
           "[" + ok + R"(,"extra":[1,2,}])",
           "[" + ok + R"(,"extra":{"x":01}}])",
           "[" + ok + R"(,"extra":"bad \q escape"}])",
           "[" + ok + R"(,"extra":nul}])",
           "[" + ok + R"(,"peakLoadLag48":-}])",
           "[" + ok + "}]]",
           "[" + ok + "}] x",
           "[" + ok + "},]",
           "[" + ok + "} " + ok + "}]",
       }) {
    EXPECT_FALSE(parse_records_fast(bad, default_feature_schema(), kOrigin, 10).has_value()) << bad;
    EXPECT_THROW(json::parse(bad), json::parse_error) << bad;
  }
}

// Keys in another order in each record, escaped keys, ignored nested values,
// integers and floats of every spelling: the same rows as parse_record.
TEST(ServeRecordsFast, MatchesParseRecordOnUnusualButValidBodies) {
  const std::string text = R"([
    {"ServerIP":"10.0.0.1","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":1E2,"year":2016,
     "extra":{"deep":[1,{"x":null}],"s":"\u00e9\n"},"peakLoadLag49":-0,"peakLoadLag50":-0.0},
    {"peakLoadLag48":12.5e-1,"SessionStartHourTime":1467363600000,"Server\u0049P":"10.0.0.2",
     "Holiday":false,"Morning":1.0,"linearTrend":1,"key":"k"},
    {"SessionStartHourTime":"2016-07-01T10:00:00Z","ServerIP":"10.0.0.3","ServerIP":"10.0.0.4",
     "dayofweek":"friday","peakLoadLag730":0.1000000000000001,"peakLoadLag48":null}
  ])";
  const auto fast = parse_records_fast(text, default_feature_schema(), kOrigin, 10);
  ASSERT_TRUE(fast.has_value());
  const json body = json::parse(text);
  ASSERT_EQ(fast->size(), body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    const ParsedRecord ref = parse_record(body[i], i, default_feature_schema(), kOrigin);
    const ParsedRecord& got = (*fast)[i];
    EXPECT_EQ(got.key, ref.key) << i;
    EXPECT_EQ(got.row.server_ip, ref.row.server_ip) << i;
    EXPECT_EQ(got.row.hour, ref.row.hour) << i;
    const Calendar& a = got.row.calendar;
    const Calendar& b = ref.row.calendar;
    EXPECT_EQ(std::tie(a.year, a.month, a.weekofyear, a.dayofmonth, a.hourofday, a.dayofweek,
                       a.holiday, a.business_hour, a.morning),
              std::tie(b.year, b.month, b.weekofyear, b.dayofmonth, b.hourofday, b.dayofweek,
                       b.holiday, b.business_hour, b.morning))
        << i;
    EXPECT_EQ(got.row.linear_trend, ref.row.linear_trend) << i;
    EXPECT_EQ(got.row.lags, ref.row.lags) << i;
    EXPECT_EQ(got.row.rolling, ref.row.rolling) << i;
  }
  EXPECT_EQ((*fast)[1].row.server_ip, "10.0.0.2");  // an escaped key is still ServerIP
  EXPECT_EQ((*fast)[2].row.server_ip, "10.0.0.4");  // the last of duplicate keys
  // Without keys, the key is left empty; a `key` must still be a string.
  EXPECT_EQ(parse_records_fast(text, default_feature_schema(), kOrigin, 10, false)->at(1).key, "");
}

// Random records (key order, spacing, nulls, numbers of every spelling and
// length): whatever the fast path accepts, it reads as parse_record does.
TEST(ServeRecordsFast, AgreesWithParseRecordOnRandomBodies) {
  std::mt19937_64 rng(20160701);
  const auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const auto number = [&] {
    std::string digits;
    const size_t n = pick(40) == 0 ? 12 + pick(12) : 1 + pick(9);  // now and then 19 digits or more
    for (size_t i = 0; i < n; ++i) digits += static_cast<char>('0' + pick(10));
    while (digits.size() > 1 && digits[0] == '0') digits.erase(0, 1);
    std::string text = (pick(4) == 0 ? "-" : "") + digits;
    if (pick(2)) text += "." + std::to_string(pick(1000000));
    if (pick(3) == 0)
      text += (pick(2) ? "e" : "E") + std::string(pick(2) ? "-" : "+") + std::to_string(pick(30));
    return text;
  };
  const auto space = [&] { return std::string(pick(3), " \n\t"[pick(3)]); };
  size_t accepted = 0;
  for (int body = 0; body < 200; ++body) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"ServerIP", "\"10.0.0." + std::to_string(pick(5)) + "\""},
        {"SessionStartHourTime", "\"2016-07-0" + std::to_string(1 + pick(9)) + " 1" +
                                     std::to_string(pick(10)) + ":00:00\""},
        {"hourofday", std::to_string(pick(24))},
        {"Holiday", pick(2) ? "true" : "0"},
        {"linearTrend", number()},
    };
    for (int i = 0; i < default_feature_schema().num_scaled(); ++i)
      fields.emplace_back(default_feature_schema().scaled_name(i), pick(8) ? number() : "null");
    std::shuffle(fields.begin(), fields.end(), rng);
    std::string text = "[" + space() + "{";
    for (size_t f = 0; f < fields.size(); ++f)
      text.append(f ? "," : "")
          .append(space())
          .append("\"")
          .append(fields[f].first)
          .append("\"")
          .append(space())
          .append(":")
          .append(space())
          .append(fields[f].second);
    text += "}" + space() + "]";
    const auto fast = parse_records_fast(text, default_feature_schema(), kOrigin, 10);
    const json parsed = json::parse(text);
    std::optional<ParsedRecord> ref;
    try {
      ref = parse_record(parsed[0], 0, default_feature_schema(), kOrigin);
    } catch (const RequestError&) {
      // out of range for a field (a huge number): the fast path must decline too
    }
    if (!fast) continue;
    ++accepted;
    ASSERT_TRUE(ref.has_value()) << text;
    const FeatureRow& a = (*fast)[0].row;
    const FeatureRow& b = ref->row;
    EXPECT_EQ(a.server_ip, b.server_ip) << text;
    EXPECT_EQ(a.hour, b.hour) << text;
    EXPECT_EQ(a.calendar.hourofday, b.calendar.hourofday) << text;
    EXPECT_EQ(a.calendar.holiday, b.calendar.holiday) << text;
    EXPECT_EQ(a.linear_trend, b.linear_trend) << text;
    EXPECT_EQ(a.lags, b.lags) << text;
    EXPECT_EQ(a.rolling, b.rolling) << text;
  }
  EXPECT_GT(accepted, 50u);
}

// Regression: simdjson 3.0.1's On Demand reads many numbers of 19 or more
// significant digits wrongly (0.1000000000000000055511151231257827 as 0);
// the fast path leaves them to nlohmann.
TEST(ServeRecordsFast, DeclinesNumbersOfNineteenDigitsOrMore) {
  const std::string head =
      R"([{"ServerIP":"a","SessionStartHourTime":"2016-07-01 09:00:00","peakLoadLag48":)";
  for (const std::string number :
       {"0.1000000000000000055511151231257827", "85137770435821965.57e-33", "9223372036854775807",
        "1234567890123456789"}) {
    const std::string text = head + number + "}]";
    EXPECT_FALSE(parse_records_fast(text, default_feature_schema(), kOrigin, 10).has_value())
        << number;
    EXPECT_EQ(parse_record(json::parse(text)[0], 0, default_feature_schema(), kOrigin).row.lags[0],
              std::strtod(number.c_str(), nullptr))
        << number;
  }
  // Leading zeros are not significant: a double's 17 digits after "0.00".
  for (const std::string number :
       {"0.10000000000000001e0", "0.003650467716176135", "-0.000123456789012345678"}) {
    const auto fast =
        parse_records_fast(head + number + "}]", default_feature_schema(), kOrigin, 10);
    ASSERT_TRUE(fast.has_value()) << number;
    EXPECT_EQ((*fast)[0].row.lags[0], std::strtod(number.c_str(), nullptr)) << number;
  }
}

}  // namespace
}  // namespace loadcast::serve
