#include "features/feature_row.h"

namespace loadcast {

std::string_view weekday_name(int dayofweek) {
  static constexpr std::string_view kNames[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                 "Friday", "Saturday", "Sunday"};
  return kNames[dayofweek];
}

std::string categorical_value(const FeatureRow& row, int column) {
  const Calendar& c = row.calendar;
  switch (column) {
    case 0:
      return std::string(weekday_name(c.dayofweek));
    case 1:
      return row.server_ip;
    case 2:
      return std::to_string(c.year);
    case 3:
      return std::to_string(c.month);
    case 4:
      return std::to_string(c.weekofyear);
    case 5:
      return std::to_string(c.dayofmonth);
    case 6:
      return std::to_string(c.hourofday);
    case 7:
      return c.holiday ? "1" : "0";
    case 8:
      return c.business_hour ? "1" : "0";
    case 9:
      return c.morning ? "1" : "0";
  }
  return {};
}

std::string scaled_column_name(int index) {
  if (index < kNumLags) return "peakLoadLag" + std::to_string(kHourlyLags[index]);
  return "peak" + std::string(kMeasureNames[index - kNumLags]) + "DailyLag2Win7";
}

double scaled_value(const FeatureRow& row, int index) {
  return index < kNumLags ? row.lags[index] : row.rolling[index - kNumLags];
}

}  // namespace loadcast
