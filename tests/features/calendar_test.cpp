#include "features/calendar.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/time.h"

namespace loadcast {
namespace {

// pandas 1.5 USFederalHolidayCalendar().holidays('2009-01-01', '2030-12-31')
// has 230 dates; these are the ones of 2010, 2016 and 2021-2023.
const std::set<std::string> kPandasHolidays = {
    "2010-01-01", "2010-01-18", "2010-02-15", "2010-05-31", "2010-07-05", "2010-09-06",
    "2010-10-11", "2010-11-11", "2010-11-25", "2010-12-24", "2010-12-31", "2016-01-01",
    "2016-01-18", "2016-02-15", "2016-05-30", "2016-07-04", "2016-09-05", "2016-10-10",
    "2016-11-11", "2016-11-24", "2016-12-26", "2021-01-01", "2021-01-18", "2021-02-15",
    "2021-05-31", "2021-06-18", "2021-07-05", "2021-09-06", "2021-10-11", "2021-11-11",
    "2021-11-25", "2021-12-24", "2021-12-31", "2022-01-17", "2022-02-21", "2022-05-30",
    "2022-06-20", "2022-07-04", "2022-09-05", "2022-10-10", "2022-11-11", "2022-11-24",
    "2022-12-26", "2023-01-02", "2023-01-16", "2023-02-20", "2023-05-29", "2023-06-19",
    "2023-07-04", "2023-09-04", "2023-10-09", "2023-11-10", "2023-11-23", "2023-12-25"};

TEST(CalendarTest, HolidaysMatchPandasFederalCalendar) {
  int total = 0;
  for (int64_t d = days_from_civil(2009, 1, 1); d <= days_from_civil(2030, 12, 31); ++d) {
    const bool holiday = is_us_federal_holiday(d);
    total += holiday;
    const std::string day = format_day(d);
    const int year = civil_from_days(d).year;
    if (year == 2010 || year == 2016 || (year >= 2021 && year <= 2023)) {
      EXPECT_EQ(holiday, kPandasHolidays.count(day) == 1) << day;
    }
  }
  EXPECT_EQ(total, 230);
}

TEST(CalendarTest, IsoWeeks) {
  EXPECT_EQ(iso_week(days_from_civil(2016, 1, 4)), 1);
  EXPECT_EQ(iso_week(days_from_civil(2020, 12, 28)), 53);
  EXPECT_EQ(iso_week(days_from_civil(2021, 1, 3)), 53);
  EXPECT_EQ(iso_week(days_from_civil(2015, 12, 31)), 53);
  EXPECT_EQ(iso_week(days_from_civil(2026, 11, 26)), 48);
}

TEST(CalendarTest, HourFields) {
  const Calendar c = calendar_of_hour(days_from_civil(2016, 7, 4) * kSecondsPerDay + 9 * 3600);
  EXPECT_EQ(c.year, 2016);
  EXPECT_EQ(c.month, 7);
  EXPECT_EQ(c.dayofmonth, 4);
  EXPECT_EQ(c.hourofday, 9);
  EXPECT_EQ(c.dayofweek, 0);
  EXPECT_TRUE(c.holiday);
  EXPECT_TRUE(c.business_hour);
  EXPECT_TRUE(c.morning);
  const Calendar night = calendar_of_hour(days_from_civil(2016, 7, 5) * kSecondsPerDay + 19 * 3600);
  EXPECT_FALSE(night.business_hour);
  EXPECT_FALSE(night.morning);
  EXPECT_FALSE(night.holiday);
}

}  // namespace
}  // namespace loadcast
