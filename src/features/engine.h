// The one feature engine (docs/outputs.md). A server's history is its dense hourly
// grid of peaks and its daily means; a feature row for any hour, inside the
// grid (ETL) or after it (scoring, /v1/forecast), is computed from it by the
// same function, so training and serving cannot drift apart.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aggregate/bucket_table.h"
#include "common/time.h"
#include "features/feature_row.h"
#include "features/schema.h"

namespace loadcast {

struct ServerHistory {
  std::string server_ip;
  int64_t first_hour = 0;                               // epoch hours (seconds / 3600) of hours[0]
  std::vector<HourPeak> hours;                          // dense grid, first to last session hour
  int64_t first_day = 0;                                // epoch days of daily[0]
  std::vector<std::array<double, kNumMeasures>> daily;  // means over the grid hours of each day

  int64_t last_hour() const { return first_hour + static_cast<int64_t>(hours.size()) - 1; }
};

struct FeatureParams {
  const FeatureSchema* schema = &default_feature_schema();  // which lags
  TimeNs train_begin = 0;                                   // origin of linearTrend
  double low_threshold = 0;
  double high_threshold = 0;
};

// linearTrend of an hour: (hour - origin) in years of 365.25 days.
double linear_trend(int64_t hour_seconds, TimeNs origin);

// Builds the dense hourly grid (peak bucket per hour, ties to the earliest)
// and the daily means from one server's buckets, sorted by bucket.
ServerHistory history_from_buckets(std::string server_ip, std::span<const ServerBucket> buckets);

// Fills the daily means of `history` from its hourly grid.
void compute_daily_means(ServerHistory& history);

// The feature row of `history` for the hour starting at `hour_seconds`.
FeatureRow feature_row(const ServerHistory& history, int64_t hour_seconds,
                       const FeatureParams& params);

// `fn(row)` with the feature row of hours [begin, end) of the grid, in
// time order.
template <class Fn>
void for_each_grid_row(const ServerHistory& history, const FeatureParams& params, size_t begin,
                       size_t end, Fn&& fn) {
  for (size_t i = begin; i < end; ++i)
    fn(feature_row(history, (history.first_hour + static_cast<int64_t>(i)) * kSecondsPerHour,
                   params));
}

}  // namespace loadcast
