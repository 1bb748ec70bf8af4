// The feature schema of SPEC §3: one row per server and hour, the column
// names of the feature table, and the categorical values the encoders read.
// Everything that produces or consumes feature rows uses these definitions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "aggregate/measures.h"

namespace loadcast {

// Hourly lags, in hours, in feature order.
inline constexpr int kNumLags = 12;
inline constexpr std::array<int, kNumLags> kHourlyLags = {48, 49, 50, 51, 52,  55,
                                                          60, 67, 72, 96, 168, 730};

// The rolling window of daily means: days d-9 .. d-3.
inline constexpr int kRollingFirstDayBack = 9;
inline constexpr int kRollingLastDayBack = 3;

// Peaks of one server-hour (SPEC §3.2). `peak[m]` follows kMeasureNames.
struct HourPeak {
  std::array<double, kNumMeasures> peak{};
  int64_t sessions = 0;
};

// Calendar fields of an hour, UTC (SPEC §3.6).
struct Calendar {
  int year = 0;
  int month = 0;
  int weekofyear = 0;  // ISO 8601
  int dayofmonth = 0;
  int hourofday = 0;
  int dayofweek = 0;  // 0 = Monday .. 6 = Sunday
  bool holiday = false;
  bool business_hour = false;
  bool morning = false;
};

struct FeatureRow {
  std::string server_ip;
  int64_t hour = 0;  // epoch seconds, a multiple of 3600
  HourPeak current;  // the row's own peaks (only the label is derived from them)
  Calendar calendar;
  double linear_trend = 0;
  std::array<double, kNumLags> lags{};         // peakLoadLag{L}
  std::array<double, kNumMeasures> rolling{};  // peak{X}DailyLag2Win7
  int label = 0;                               // 1 low, 2 medium, 3 high
};

// The label of a row from its own peak load: 1 (low) up to `low`, 2
// (medium) up to `high`, else 3 (high).
inline int label_for(double peak_load, double low, double high) {
  return peak_load <= low ? 1 : (peak_load <= high ? 2 : 3);
}

// The categorical columns of SPEC §4, in encoding order.
inline constexpr int kNumCategorical = 10;
inline constexpr std::array<std::string_view, kNumCategorical> kCategoricalColumns = {
    "dayofweek",  "ServerIP",  "year",    "month",        "weekofyear",
    "dayofmonth", "hourofday", "Holiday", "BusinessHour", "Morning"};

// The value of categorical column `column` (index into kCategoricalColumns)
// as the string the indexers see: names for dayofweek, integers without
// decimals for the rest.
std::string categorical_value(const FeatureRow& row, int column);

// The 20 scaled numeric columns: 12 lags then 8 rolling means.
inline constexpr int kNumScaled = kNumLags + kNumMeasures;
std::string scaled_column_name(int index);
double scaled_value(const FeatureRow& row, int index);

std::string_view weekday_name(int dayofweek);

}  // namespace loadcast
