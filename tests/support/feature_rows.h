// Synthetic feature rows for model tests: the keys and a simple calendar of
// hour `h` after `begin` (June 2016 has no federal holiday); the test fills
// the lags, rolling features and label.
#pragma once

#include <string>
#include <vector>

#include "common/time.h"
#include "features/feature_row.h"
#include "features/schema.h"

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

// Three servers over `days` days from 2016-06-01; the label (thresholds
// 150 and 500) follows the 48-hour lag and the business hours, so a forest
// can learn it.
inline std::vector<FeatureRow> learnable_rows(int days) {
  std::vector<FeatureRow> rows;
  const int64_t begin = days_from_civil(2016, 6, 1) * kSecondsPerDay;
  const char* servers[] = {"10.0.0.1", "10.0.0.2", "2001:db8::1"};
  for (int s = 0; s < 3; ++s) {
    for (int h = 0; h < days * 24; ++h) {
      FeatureRow row = calendar_row(servers[s], begin, h);
      const Calendar& c = row.calendar;
      const double base = (s + 1) * 100.0 + ((h * 37 + s * 11) % 97) * 4;
      for (int l = 0; l < default_feature_schema().num_lags(); ++l) row.lags[l] = base + l * 3;
      for (int m = 0; m < kNumMeasures; ++m) row.rolling[m] = base / (m + 1);
      const double load = base * (c.business_hour ? 1.5 : 0.6);
      row.current.peak[0] = load;
      row.label = label_for(load, 150, 500);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace loadcast::testing
