// One row of the feature table: a server's hour with its own peaks, its
// calendar, the trend, the hourly lags, the rolling daily means and the
// label. Which columns a row has, their names and their order are the
// feature schema's (schema.h); this is the storage.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/measures.h"

namespace loadcast {

// The hourly lags of the feature table, in hours, in feature order. Adding a
// lag is adding it here (at most kMaxLags).
inline const std::vector<int> kDefaultHourlyLags = {48, 49, 50, 51, 52,  55,
                                                    60, 67, 72, 96, 168, 730};
inline constexpr int kMaxLags = 16;

// The rolling window of daily means: days d-9 .. d-3.
inline constexpr int kRollingFirstDayBack = 9;
inline constexpr int kRollingLastDayBack = 3;

// Peaks of one server-hour. `peak[m]` follows kMeasureNames.
struct HourPeak {
  std::array<double, kNumMeasures> peak{};
  int64_t sessions = 0;
};

// Calendar fields of an hour, UTC.
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
  std::array<double, kMaxLags> lags{};         // peakLoadLag{L}, the schema's lags in order
  std::array<double, kNumMeasures> rolling{};  // peak{X}DailyLag2Win7
  int label = 0;                               // 1 low, 2 medium, 3 high
};

// Rows that can be read more than once without being held: each call
// visits every row once, in an order of its own (a table on disk is read
// again).
using FeatureRowVisitor = std::function<void(const FeatureRow&)>;
using FeatureRowPasses = std::function<void(const FeatureRowVisitor&)>;
// Passes over rows in memory (which must outlive the passes).
FeatureRowPasses passes_over(std::span<const FeatureRow> rows);

// The label of a row from its own peak load: 1 (low) up to `low`, 2
// (medium) up to `high`, else 3 (high).
inline int label_for(double peak_load, double low, double high) {
  return peak_load <= low ? 1 : (peak_load <= high ? 2 : 3);
}

// "Monday" .. "Sunday" for 0 .. 6.
std::string_view weekday_name(int dayofweek);
// 0 .. 6 for "Monday" .. "Sunday", also in another case ("monday"); -1 for
// anything else.
int weekday_of_name(std::string_view name);

}  // namespace loadcast
