// Synthetic feature rows for model tests: the keys and a simple calendar of
// hour `h` after `begin` (June 2016 has no federal holiday); the test fills
// the lags, rolling features and label.
#pragma once

#include <string>

#include "common/time.h"
#include "features/feature_row.h"

namespace loadcast::testing {

inline FeatureRow calendar_row(const std::string& server, int64_t begin, int h) {
  FeatureRow row;
  row.server_ip = server;
  row.hour = begin + h * kSecondsPerHour;
  const int64_t day = floor_div(row.hour, kSecondsPerDay);
  const CivilDate date = civil_from_days(day);
  Calendar& c = row.calendar;
  c.year = date.year;
  c.month = date.month;
  c.dayofmonth = date.day;
  c.weekofyear = 22 + h / (24 * 7);
  c.hourofday = h % 24;
  c.dayofweek = weekday_from_days(day);
  c.business_hour = c.hourofday >= 8 && c.hourofday <= 18;
  c.morning = c.hourofday >= 6 && c.hourofday <= 9;
  row.linear_trend = h / (24 * 365.25);
  return row;
}

}  // namespace loadcast::testing
