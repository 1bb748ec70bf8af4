#include "features/engine.h"

#include <gtest/gtest.h>

namespace loadcast {
namespace {

constexpr int64_t kDay = 86400;
const int64_t kStart = days_from_civil(2016, 6, 1) * kDay;

ServerBucket bucket_at(int64_t seconds, double load, int64_t sessions = 1) {
  ServerBucket b{seconds / 300, {}};
  b.sums.sum[0] = load;
  b.sums.sum[1] = load / 10;
  b.sums.sessions = sessions;
  return b;
}

TEST(EngineTest, PeakBucketTiesGoToTheEarliestAndEmptyHoursAreZero) {
  const std::vector<ServerBucket> buckets = {bucket_at(kStart + 0, 5), bucket_at(kStart + 600, 9),
                                             bucket_at(kStart + 1200, 9),
                                             bucket_at(kStart + 3 * 3600, 1)};
  auto copy = buckets;
  copy[2].sums.sum[1] = 77;  // the later tie carries other bytes
  const ServerHistory h = history_from_buckets("1.2.3.4", copy);
  ASSERT_EQ(h.hours.size(), 4u);
  EXPECT_EQ(h.hours[0].peak[0], 9);
  EXPECT_EQ(h.hours[0].peak[1], 0.9);  // the earlier bucket's bytes
  EXPECT_EQ(h.hours[0].sessions, 3);
  EXPECT_EQ(h.hours[1].peak[0], 0);
  EXPECT_EQ(h.hours[1].sessions, 0);
  ASSERT_EQ(h.daily.size(), 1u);
  EXPECT_DOUBLE_EQ(h.daily[0][0], (9 + 0 + 0 + 1) / 4.0);
}

TEST(EngineTest, LagsAndRollingMeansLookBackInHoursAndDays) {
  std::vector<ServerBucket> buckets;
  for (int64_t hour = 0; hour < 24 * 40; ++hour)
    buckets.push_back(bucket_at(kStart + hour * 3600, double(hour)));
  const ServerHistory h = history_from_buckets("1.2.3.4", buckets);
  FeatureParams params;
  params.train_begin = kStart * kNanosPerSecond;
  const int64_t hour = 24 * 35 + 5;
  const FeatureRow row = feature_row(h, kStart + hour * 3600, params);
  for (int l = 0; l < default_feature_schema().num_lags(); ++l) {
    const int64_t past = hour - kDefaultHourlyLags[l];
    EXPECT_EQ(row.lags[l], past >= 0 ? double(past) : 0.0) << kDefaultHourlyLags[l];
  }
  // Day 35: days 26..32, each with mean hour 24*d + 11.5.
  EXPECT_DOUBLE_EQ(row.rolling[0], 24 * 29 + 11.5);
  EXPECT_DOUBLE_EQ(row.linear_trend, hour * 3600.0 / (365.25 * kDay));
  EXPECT_EQ(row.label, 3);
  // The first days have no window: rolling means are 0; lag 730 is outside.
  const FeatureRow first = feature_row(h, kStart, params);
  EXPECT_EQ(first.rolling[0], 0.0);
  EXPECT_EQ(first.lags[11], 0.0);
}

TEST(EngineTest, RowsAfterTheGridUseTheSameHistory) {
  std::vector<ServerBucket> buckets;
  for (int64_t hour = 0; hour < 24 * 10; ++hour)
    buckets.push_back(bucket_at(kStart + hour * 3600, 200));
  const ServerHistory h = history_from_buckets("1.2.3.4", buckets);
  FeatureParams params;
  const int64_t future = kStart + (24 * 10 + 48) * 3600;  // 49 hours after the last grid hour
  const FeatureRow row = feature_row(h, future, params);
  EXPECT_EQ(row.lags[0], 0.0);    // 48 hours back lies after the grid
  EXPECT_EQ(row.lags[1], 200.0);  // 49 hours back is inside
  EXPECT_EQ(row.current.peak[0], 0.0);
  EXPECT_DOUBLE_EQ(row.rolling[0], 200.0);
}

}  // namespace
}  // namespace loadcast
