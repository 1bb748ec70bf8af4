#include "generate/fleet.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_set>

#include "common/ip_address.h"
#include "common/time.h"
#include "features/calendar.h"
#include "generate/random.h"

namespace loadcast::generate {

namespace {

// Peak scales are log-uniform around this median. With the daily cycle below
// this puts about a third of server-hours in each label of the ONE_MONTH
// thresholds (100 / 500).
constexpr double kPeakMedian = 330;
constexpr double kPeakSpread = 1.6;  // half-width in natural-log units

constexpr double kHolidayFactor = 0.45;
constexpr double kHoursPerYear = 8766;  // 365.25 days
constexpr int kNoiseTableSize = 1024;
constexpr double kNoiseSigma = 0.25;

// Every 25th server, from the eighth on, is an IPv6 server.
constexpr int kIpv6Every = 25;
constexpr int kIpv6Offset = 7;

// Quiet at 04:00 local, busiest at 16:00 (x 16 between them).
const std::array<double, 24>& daily_profile() {
  static const std::array<double, 24> profile = [] {
    std::array<double, 24> p{};
    for (int h = 0; h < 24; ++h) {
      double x = (1 - std::cos(2 * M_PI * (h - 4) / 24.0)) / 2;
      p[h] = 0.12 + 1.88 * std::pow(x, 1.3);
    }
    return p;
  }();
  return profile;
}

// Lognormal multipliers with mean 1 for per-hour noise.
const std::array<double, kNoiseTableSize>& noise_table() {
  static const std::array<double, kNoiseTableSize> table = [] {
    std::array<double, kNoiseTableSize> t{};
    for (int i = 0; i < kNoiseTableSize; ++i) {
      double z = normal_quantile((i + 0.5) / kNoiseTableSize);
      t[i] = std::exp(kNoiseSigma * z - kNoiseSigma * kNoiseSigma / 2);
    }
    return t;
  }();
  return table;
}

}  // namespace

Fleet::Fleet(uint64_t seed, int count, int64_t start, int64_t end)
    : first_hour_(floor_div(start, kSecondsPerHour)) {
  const int64_t last_hour = floor_div(end, kSecondsPerHour);
  const int64_t span_hours = last_hour - first_hour_ + 1;

  // Peak-scale slots: a seeded permutation of evenly spaced quantiles, with
  // the two well-known servers in the middle so they see every label.
  std::vector<int> slot(count);
  std::iota(slot.begin(), slot.end(), 0);
  Rng order(hash2(seed, 0x510751075107ull));
  for (int i = count - 1; i > 0; --i) std::swap(slot[i], slot[order.below(i + 1)]);
  for (int pinned = 0; pinned < 2; ++pinned) {
    int target = count / 2 - pinned;
    std::swap(slot[pinned], *std::find(slot.begin(), slot.end(), target));
  }

  static constexpr int kTimeZones[] = {-8, -7, -6, -5, -5, -5, -4, 0, 1, 2, 8, 9};
  std::unordered_set<uint32_t> used_ipv4 = {0xD2B5A55Cu, 0x73DCC110u};
  servers_.resize(count);
  for (int i = 0; i < count; ++i) {
    Server& s = servers_[i];
    Rng rng(hash3(seed, 0x5E7E75E7E7ull, static_cast<uint64_t>(i)));
    s.key = rng.next();
    if (i < 2) {
      s.ip = kWellKnownServers[i];
    } else if (i % kIpv6Every == kIpv6Offset) {
      char text[48];
      uint64_t bits = rng.next();
      std::snprintf(text, sizeof text, "2001:db8:%x:%x::%x", static_cast<unsigned>(bits & 0xffff),
                    static_cast<unsigned>((bits >> 16) & 0xfff) + 1,
                    static_cast<unsigned>((bits >> 32) & 0xfff) + 1);
      s.ip = text;
      s.ipv6 = true;
    } else {
      uint32_t ip;
      do {
        ip = static_cast<uint32_t>(rng.next());
        uint32_t first = 1 + (ip >> 24) % 223;  // public unicast range
        if (first == 10 || first == 127) first = 11;
        ip = (first << 24) | (ip & 0xffffff);
      } while (!used_ipv4.insert(ip).second);
      append_ipv4(s.ip, ip);
    }
    double quantile = (slot[i] + 0.5) / count;
    s.peak_scale = kPeakMedian * std::exp(kPeakSpread * (2 * quantile - 1));
    s.rate = std::exp(1.4 * rng.uniform() - 0.7);
    s.tz_hours = kTimeZones[rng.below(std::size(kTimeZones))];
    s.weekend = 0.45 + 0.7 * rng.uniform();
    s.growth = 0.3 * rng.uniform();
    s.burst_chance = 0.002 + 0.01 * rng.uniform();
    s.server_type = static_cast<uint8_t>(1 + rng.below(4));
    s.traffic = static_cast<uint8_t>(rng.below(4));
    // Some servers join or leave during the window; the well-known ones stay.
    s.online_hour = INT64_MIN / 2;
    s.offline_hour = INT64_MAX / 2;
    double join = rng.uniform(), join_at = rng.uniform();
    double leave = rng.uniform(), leave_at = rng.uniform();
    if (i >= 2 && span_hours >= 96) {
      if (join < 0.15)
        s.online_hour = first_hour_ + static_cast<int64_t>(join_at * 0.6 * span_hours);
      if (leave < 0.12) {
        int64_t off = first_hour_ + static_cast<int64_t>((0.4 + 0.6 * leave_at) * span_hours);
        if (off >= s.online_hour + 48) s.offline_hour = off;
      }
    }
  }

  // Holidays are looked up by local day, so cover a day either side.
  holiday_first_day_ = floor_div(start, kSecondsPerDay) - 1;
  int64_t last_day = floor_div(end, kSecondsPerDay) + 1;
  holidays_.assign(static_cast<size_t>(last_day - holiday_first_day_ + 1), false);
  for (int64_t day = holiday_first_day_; day <= last_day; ++day)
    holidays_[static_cast<size_t>(day - holiday_first_day_)] = is_us_federal_holiday(day);
}

bool Fleet::holiday(int64_t epoch_day) const {
  int64_t i = epoch_day - holiday_first_day_;
  return i >= 0 && i < static_cast<int64_t>(holidays_.size()) && holidays_[i];
}

double Fleet::activity(const Server& s, int64_t epoch_hour) const {
  if (epoch_hour < s.online_hour || epoch_hour >= s.offline_hour) return 0;
  int64_t local = epoch_hour + s.tz_hours;
  int64_t local_day = floor_div(local, 24);
  double a = daily_profile()[local - local_day * 24];
  if (weekday_from_days(local_day) >= 5) a *= s.weekend;
  if (holiday(local_day)) a *= kHolidayFactor;
  a *= std::exp(s.growth * static_cast<double>(epoch_hour - first_hour_) / kHoursPerYear);
  // A burst starts with burst_chance, lasts 1..4 hours and multiplies by 2..4.
  double burst = 1;
  for (int back = 0; back < 4; ++back) {
    uint64_t h = hash3(s.key, 0xB0B5ull, static_cast<uint64_t>(epoch_hour - back));
    if (to_unit(h) < s.burst_chance && static_cast<int>(1 + (h & 3)) > back) {
      burst = std::max(burst, 2.0 + 2.0 * static_cast<double>((h >> 8) & 255) / 255.0);
    }
  }
  a *= burst;
  uint64_t noise = hash3(s.key, 0x401ull, static_cast<uint64_t>(epoch_hour));
  return a * noise_table()[noise & (kNoiseTableSize - 1)];
}

double expected_peak_bucket_sessions(double sessions_per_hour) {
  // Exact for up to 100 sessions per bucket (tabulated on a log grid, linear
  // interpolation in log-log), the normal approximation above.
  constexpr int kPoints = 512;
  constexpr double kLowLog = -9.210340371976184;  // ln 1e-4
  constexpr double kHighLog = 4.605170185988092;  // ln 100
  static const std::array<double, kPoints> table = [] {
    std::array<double, kPoints> t{};
    for (int i = 0; i < kPoints; ++i) {
      double k = std::exp(kLowLog + (kHighLog - kLowLog) * i / (kPoints - 1));
      double p = std::exp(-k), cdf = 0, expected = 0;
      for (int j = 0; j < 100000; ++j) {
        cdf += p;
        double tail = 1 - std::pow(std::min(cdf, 1.0), 12);
        expected += tail;
        if (tail < 1e-12 && j > k) break;
        p *= k / (j + 1);
      }
      t[i] = std::log(expected);
    }
    return t;
  }();
  double k = sessions_per_hour / 12;
  if (k <= 1e-4) return 12 * k;
  double lk = std::log(k);
  if (lk >= kHighLog) return k + 1.6292 * std::sqrt(k);
  double x = (lk - kLowLog) / (kHighLog - kLowLog) * (kPoints - 1);
  int i = std::min(static_cast<int>(x), kPoints - 2);
  double f = x - i;
  return std::exp(table[i] * (1 - f) + table[i + 1] * f);
}

}  // namespace loadcast::generate
