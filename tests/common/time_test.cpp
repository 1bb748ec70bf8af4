#include "common/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace loadcast {
namespace {

TimeNs at(const char* text) {
  auto t = parse_timestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

TEST(TimeTest, ParsesTheFormsOfSpec) {
  const TimeNs base = at("2016-07-05 09:05:00");
  EXPECT_EQ(base, (days_from_civil(2016, 7, 5) * 86400 + 9 * 3600 + 5 * 60) * kNanosPerSecond);
  EXPECT_EQ(at("2016-07-05T09:05:00"), base);
  EXPECT_EQ(at("2016-07-05T09:05:00Z"), base);
  EXPECT_EQ(at("2016-07-05 11:05:00+02:00"), base);
  EXPECT_EQ(at("2016-07-05 04:05:00-05:00"), base);
  EXPECT_EQ(at("2016-07-05 09:05:00.5"), base + kNanosPerSecond / 2);
  EXPECT_EQ(at("2016-07-05 09:05:00.000000001"), base + 1);
}

TEST(TimeTest, FractionsBeyondNanosecondsRoundUpSoWindowsStayExact) {
  const TimeNs end = at("2016-06-30 23:59:59");
  EXPECT_GT(at("2016-06-30 23:59:59.0000000001"), end);
  EXPECT_EQ(at("2016-06-30 23:59:59.0000000000"), end);
  EXPECT_GT(at("2016-06-30 23:59:59.5"), end);
}

TEST(TimeTest, RejectsImpossibleDatesAndJunk) {
  for (const char* bad :
       {"2016-13-01 10:00:00", "2016-06-31 10:00:00", "2015-02-29 00:00:00", "2016-01-01 24:00:00",
        "2016-01-01 10:60:00", "2016-01-01 10:00:60", "2016-01-01", "", "2016-01-01 10:00:00.",
        "2016-01-01 10:00:00 ", "2016-01-01 10:00:00+2:00", "2016-01-01 10:00:00+02",
        "x016-01-01 10:00:00", "2016/01/01 10:00:00", "2016-01-01  10:00:00",
        "2016-01-01 10:00:00ZZ"}) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_timestamp("2016-02-29 00:00:00").has_value());
}

// Found by an outside fuzzing run: 0000-01-01 parsed (to the earliest
// instant) and its line counted outside the window. Year 0 is not a year of
// the calendar; the years before 1678 still clamp.
TEST(TimeTest, YearZeroIsNotATimestamp) {
  for (const char* zero : {"0000-01-01 00:00:00", "0000-12-31 23:59:59", "0000-02-29 12:00:00Z"}) {
    EXPECT_FALSE(parse_timestamp(zero).has_value()) << zero;
    DateCache cache;
    TimeNs t = 0;
    int64_t seconds = 0;
    EXPECT_FALSE(parse_timestamp_cached(zero, cache, t, seconds)) << zero;
  }
  EXPECT_EQ(parse_timestamp("0001-01-01 00:00:00"), std::numeric_limits<TimeNs>::min());
}

TEST(TimeTest, CivilRoundTripsAndWeekdays) {
  for (int64_t d = -800000; d <= 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(weekday_from_days(days_from_civil(2016, 7, 4)), 0);  // a Monday
  EXPECT_EQ(format_timestamp(days_from_civil(1969, 12, 31) * 86400 + 3661), "1969-12-31 01:01:01");
  EXPECT_EQ(format_day(days_from_civil(2016, 6, 1)), "2016-06-01");
}

// put_timestamp remembers its last date: hours of one day, a day back and
// forth, and days far apart must each get their own text.
TEST(TimeTest, TimestampsKeepTheirDateWhenTheDayChanges) {
  const auto expected = [](int64_t seconds) {
    const int64_t days = floor_div(seconds, kSecondsPerDay);
    const CivilDate c = civil_from_days(days);
    const int64_t in_day = seconds - days * kSecondsPerDay;
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day,
                  static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                  static_cast<int>(in_day % 60));
    return std::string(text);
  };
  const int64_t base = days_from_civil(2016, 2, 28) * kSecondsPerDay;
  std::vector<int64_t> times;
  for (int64_t h = 0; h < 24 * 4; ++h) times.push_back(base + h * 3600 + 59);
  for (int64_t k = 0; k < 50; ++k) times.push_back(base + (k % 2 ? 1 : -1) * k * 86399);
  times.push_back(days_from_civil(1969, 12, 31) * kSecondsPerDay + 86399);
  times.push_back(0);
  for (const int64_t t : times) {
    char text[kTimestampChars];
    put_timestamp(text, t);
    EXPECT_EQ(std::string(text, kTimestampChars), expected(t)) << t;
    EXPECT_EQ(format_timestamp(t), expected(t)) << t;
  }
}

}  // namespace
}  // namespace loadcast

namespace loadcast {
namespace {

// The inline path of the ingest must give parse_timestamp's answer for every
// text: valid times, junk in the time of day, other days, years that clamp.
TEST(TimeTest, CachedParseAgreesWithTheGeneralParser) {
  const std::string days[] = {"2016-06-06", "2016-06-07", "1969-12-31",
                              "9999-12-31", "1600-01-01", "2016-02-30"};
  const std::string junk = "0123456789:T .-+Zx\x00";
  std::mt19937 rng(5);
  DateCache cache;
  for (int i = 0; i < 200000; ++i) {
    std::string text = days[rng() % 6] + (rng() % 8 ? " " : "T");
    char clock[9];
    std::snprintf(clock, sizeof clock, "%02u:%02u:%02u", static_cast<unsigned>(rng() % 26),
                  static_cast<unsigned>(rng() % 62), static_cast<unsigned>(rng() % 62));
    text += clock;
    if (rng() % 3 == 0) text[10 + rng() % 9] = junk[rng() % junk.size()];
    if (rng() % 10 == 0) text += rng() % 2 ? "Z" : ".5";
    if (rng() % 20 == 0) text.pop_back();
    const auto expected = parse_timestamp(text);
    TimeNs cached = -1;
    int64_t seconds = 0;
    ASSERT_EQ(parse_timestamp_cached(text, cache, cached, seconds), expected.has_value()) << text;
    if (expected) {
      ASSERT_EQ(cached, *expected) << text;
    }
  }
}

}  // namespace
}  // namespace loadcast
