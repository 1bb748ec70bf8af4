#include "features/calendar.h"

#include <array>
#include <limits>

#include "common/time.h"

namespace loadcast {

namespace {

// Saturday moves to Friday, Sunday to Monday (pandas' nearest_workday).
int64_t nearest_workday(int64_t day) {
  const int wd = weekday_from_days(day);
  return wd == 5 ? day - 1 : (wd == 6 ? day + 1 : day);
}

// The n-th (1-based) `weekday` on or after year-month-first_day; n < 0 counts
// back from the day (pandas' DateOffset(weekday=XX(n))).
int64_t nth_weekday(int year, int month, int anchor_day, int weekday, int n) {
  const int64_t anchor = days_from_civil(year, month, anchor_day);
  const int wd = weekday_from_days(anchor);
  if (n > 0) return anchor + (weekday - wd + 7) % 7 + int64_t{7} * (n - 1);
  return anchor - (wd - weekday + 7) % 7 + int64_t{7} * (n + 1);
}

constexpr int kMonday = 0, kThursday = 3;

// The observed holidays of one calendar year's rules (an observed date may
// fall in the neighbouring year: New Year's Day on a Saturday).
std::array<int64_t, 11> holidays_of_year(int year, int& count) {
  std::array<int64_t, 11> out{};
  count = 0;
  out[count++] = nearest_workday(days_from_civil(year, 1, 1));
  if (year >= 1986) out[count++] = nth_weekday(year, 1, 1, kMonday, 3);  // Martin Luther King Jr.
  out[count++] = nth_weekday(year, 2, 1, kMonday, 3);                    // Presidents Day
  out[count++] = nth_weekday(year, 5, 31, kMonday, -1);                  // Memorial Day
  const int64_t juneteenth = nearest_workday(days_from_civil(year, 6, 19));
  if (juneteenth >= days_from_civil(2021, 6, 18)) out[count++] = juneteenth;
  out[count++] = nearest_workday(days_from_civil(year, 7, 4));    // Independence Day
  out[count++] = nth_weekday(year, 9, 1, kMonday, 1);             // Labor Day
  out[count++] = nth_weekday(year, 10, 1, kMonday, 2);            // Columbus Day
  out[count++] = nearest_workday(days_from_civil(year, 11, 11));  // Veterans Day
  out[count++] = nth_weekday(year, 11, 1, kThursday, 4);          // Thanksgiving
  out[count++] = nearest_workday(days_from_civil(year, 12, 25));  // Christmas
  return out;
}

}  // namespace

bool is_us_federal_holiday(int64_t epoch_day) {
  const int year = civil_from_days(epoch_day).year;
  for (int y = year; y <= year + 1; ++y) {
    int count = 0;
    const auto days = holidays_of_year(y, count);
    for (int i = 0; i < count; ++i)
      if (days[i] == epoch_day) return true;
  }
  return false;
}

int iso_week(int64_t epoch_day) {
  const int64_t thursday = epoch_day - weekday_from_days(epoch_day) + 3;
  const int iso_year = civil_from_days(thursday).year;
  return static_cast<int>((thursday - days_from_civil(iso_year, 1, 1)) / 7 + 1);
}

Calendar calendar_of_hour(int64_t epoch_seconds) {
  const int64_t day = floor_div(epoch_seconds, kSecondsPerDay);
  // Rows come an hour after the other: the fields of the day (a holiday
  // takes two years of rules) are worked out once per day and thread.
  thread_local int64_t last_day = std::numeric_limits<int64_t>::min();
  thread_local Calendar of_day;
  if (day != last_day) {
    const CivilDate date = civil_from_days(day);
    of_day.year = date.year;
    of_day.month = date.month;
    of_day.dayofmonth = date.day;
    of_day.dayofweek = weekday_from_days(day);
    of_day.weekofyear = iso_week(day);
    of_day.holiday = is_us_federal_holiday(day);
    last_day = day;
  }
  Calendar c = of_day;
  c.hourofday = static_cast<int>((epoch_seconds - day * kSecondsPerDay) / kSecondsPerHour);
  c.business_hour = c.hourofday >= 8 && c.hourofday <= 18;
  c.morning = c.hourofday >= 6 && c.hourofday <= 9;
  return c;
}

}  // namespace loadcast
