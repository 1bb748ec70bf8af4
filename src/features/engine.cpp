#include "features/engine.h"

#include "features/calendar.h"

namespace loadcast {

namespace {

constexpr int64_t kBucketsPerHour = kSecondsPerHour / kBucketSeconds;
constexpr double kSecondsPerYear = 365.25 * kSecondsPerDay;

}  // namespace

ServerHistory history_from_buckets(std::string server_ip, std::span<const ServerBucket> buckets) {
  ServerHistory h;
  h.server_ip = std::move(server_ip);
  if (buckets.empty()) return h;
  h.first_hour = floor_div(buckets.front().bucket, kBucketsPerHour);
  const int64_t last_hour = floor_div(buckets.back().bucket, kBucketsPerHour);
  h.hours.assign(static_cast<size_t>(last_hour - h.first_hour + 1), HourPeak{});
  std::vector<bool> has_peak(h.hours.size(), false);
  for (const ServerBucket& b : buckets) {
    const size_t i = static_cast<size_t>(floor_div(b.bucket, kBucketsPerHour) - h.first_hour);
    HourPeak& hour = h.hours[i];
    // Buckets arrive in time order, so a strict comparison keeps the earliest tie.
    if (!has_peak[i] || b.sums.sum[0] > hour.peak[0]) {
      hour.peak = b.sums.sum;
      has_peak[i] = true;
    }
    hour.sessions += b.sums.sessions;
  }
  compute_daily_means(h);
  return h;
}

void compute_daily_means(ServerHistory& h) {
  h.daily.clear();
  if (h.hours.empty()) return;
  h.first_day = floor_div(h.first_hour, 24);
  const int64_t last_day = floor_div(h.last_hour(), 24);
  h.daily.assign(static_cast<size_t>(last_day - h.first_day + 1), {});
  std::vector<int> counts(h.daily.size(), 0);
  for (size_t i = 0; i < h.hours.size(); ++i) {
    const size_t d =
        static_cast<size_t>(floor_div(h.first_hour + static_cast<int64_t>(i), 24) - h.first_day);
    for (int m = 0; m < kNumMeasures; ++m) h.daily[d][m] += h.hours[i].peak[m];
    ++counts[d];
  }
  for (size_t d = 0; d < h.daily.size(); ++d)
    for (int m = 0; m < kNumMeasures; ++m) h.daily[d][m] /= counts[d];
}

double linear_trend(int64_t hour_seconds, TimeNs origin) {
  return static_cast<double>(hour_seconds - seconds_of(origin)) / kSecondsPerYear;
}

FeatureRow feature_row(const ServerHistory& h, int64_t hour_seconds, const FeatureParams& params) {
  FeatureRow row;
  row.server_ip = h.server_ip;
  row.hour = hour_seconds;
  const int64_t hour = floor_div(hour_seconds, kSecondsPerHour);
  if (hour >= h.first_hour && hour <= h.last_hour())
    row.current = h.hours[static_cast<size_t>(hour - h.first_hour)];
  row.calendar = calendar_of_hour(hour_seconds);
  row.linear_trend = linear_trend(hour_seconds, params.train_begin);

  const std::vector<int>& lags = params.schema->lags();
  for (size_t l = 0; l < lags.size(); ++l) {
    const int64_t past = hour - lags[l];
    row.lags[l] = past >= h.first_hour && past <= h.last_hour()
                      ? h.hours[static_cast<size_t>(past - h.first_hour)].peak[0]
                      : 0.0;
  }

  const int64_t day = floor_div(hour, 24);
  const int64_t last_day = h.first_day + static_cast<int64_t>(h.daily.size()) - 1;
  std::array<double, kNumMeasures> sum{};
  int present = 0;
  for (int64_t d = day - kRollingFirstDayBack; d <= day - kRollingLastDayBack; ++d) {
    if (d < h.first_day || d > last_day) continue;
    for (int m = 0; m < kNumMeasures; ++m)
      sum[m] += h.daily[static_cast<size_t>(d - h.first_day)][m];
    ++present;
  }
  for (int m = 0; m < kNumMeasures; ++m) row.rolling[m] = present ? sum[m] / present : 0.0;

  row.label = label_for(row.current.peak[0], params.low_threshold, params.high_threshold);
  return row;
}

}  // namespace loadcast
