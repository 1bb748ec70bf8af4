#include "common/time.h"

#include <cstring>
#include <limits>

namespace loadcast {

// Howard Hinnant's civil-calendar algorithms (public domain), proleptic
// Gregorian, valid for every year an int holds.
int64_t days_from_civil(int year, int month, int day) {
  int64_t y = static_cast<int64_t>(year) - (month <= 2);
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t days) {
  days += 719468;
  const int64_t era = floor_div(days, 146097);
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2));
  return {year, month, day};
}

int weekday_from_days(int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

static bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

namespace {

inline int two_digits(const char* p) {
  const unsigned a = static_cast<unsigned char>(p[0]) - '0';
  const unsigned b = static_cast<unsigned char>(p[1]) - '0';
  return (a > 9 || b > 9) ? -1 : static_cast<int>(a * 10 + b);
}

}  // namespace

std::optional<TimeNs> parse_timestamp(std::string_view text, DateCache* cache) {
  const char* p = text.data();
  const size_t n = text.size();
  if (n < 19) return std::nullopt;
  int64_t days;
  if (cache && cache->valid && std::memcmp(cache->date, p, 10) == 0) {
    days = cache->days;
  } else {
    const int century = two_digits(p);
    const int year_low = two_digits(p + 2);
    const int month = two_digits(p + 5);
    const int day = two_digits(p + 8);
    if (century < 0 || year_low < 0 || p[4] != '-' || p[7] != '-') return std::nullopt;
    const int year = century * 100 + year_low;
    // Year 0 is not a year of the calendar (1 BC is followed by AD 1), as
    // Python's datetime and pandas read it too.
    if (year == 0) return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
    days = days_from_civil(year, month, day);
    if (cache) {
      std::memcpy(cache->date, p, 10);
      cache->days = days;
      cache->valid = true;
    }
  }
  const int hour = two_digits(p + 11);
  const int minute = two_digits(p + 14);
  const int second = two_digits(p + 17);
  if ((p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':' || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59)
    return std::nullopt;

  size_t i = 19;
  int64_t nanos = 0;
  if (i < n && p[i] == '.') {
    ++i;
    const size_t first = i;
    int64_t scale = 100'000'000;
    bool beyond_nanos = false;
    while (i < n && static_cast<unsigned>(p[i] - '0') <= 9) {
      const int digit = p[i] - '0';
      if (scale > 0) {
        nanos += digit * scale;
        scale /= 10;
      } else if (digit != 0) {
        beyond_nanos = true;
      }
      ++i;
    }
    if (i == first) return std::nullopt;
    if (beyond_nanos) ++nanos;  // round up: see TimeNs
  }

  int64_t offset_seconds = 0;
  if (i < n) {
    if (p[i] == 'Z') {
      ++i;
    } else if (p[i] == '+' || p[i] == '-') {
      if (n - i < 6) return std::nullopt;
      const int oh = two_digits(p + i + 1);
      const int om = two_digits(p + i + 4);
      if (oh < 0 || oh > 23 || p[i + 3] != ':' || om < 0 || om > 59) return std::nullopt;
      offset_seconds = (int64_t{oh} * 3600 + int64_t{om} * 60) * (p[i] == '+' ? 1 : -1);
      i += 6;
    }
  }
  if (i != n) return std::nullopt;

  const int64_t seconds =
      days * kSecondsPerDay + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_seconds;
  constexpr int64_t kMaxSeconds = std::numeric_limits<TimeNs>::max() / kNanosPerSecond - 1;
  if (seconds > kMaxSeconds) return std::numeric_limits<TimeNs>::max();
  if (seconds < -kMaxSeconds) return std::numeric_limits<TimeNs>::min();
  return seconds * kNanosPerSecond + nanos;
}

namespace {

void put_digits(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::string format_day(int64_t epoch_days) {
  const CivilDate date = civil_from_days(epoch_days);
  std::string out(10, '-');
  put_digits(out.data(), date.year, 4);
  put_digits(out.data() + 5, date.month, 2);
  put_digits(out.data() + 8, date.day, 2);
  return out;
}

void put_timestamp(char* out, int64_t epoch_seconds) {
  const int64_t days = floor_div(epoch_seconds, kSecondsPerDay);
  const int64_t in_day = epoch_seconds - days * kSecondsPerDay;
  thread_local int64_t last_day = std::numeric_limits<int64_t>::min();
  thread_local std::string last_date;
  if (days != last_day) {
    last_date = format_day(days);
    last_day = days;
  }
  std::memcpy(out, last_date.data(), 10);
  out[10] = ' ';
  put_digits(out + 11, static_cast<int>(in_day / 3600), 2);
  out[13] = ':';
  put_digits(out + 14, static_cast<int>(in_day / 60 % 60), 2);
  out[16] = ':';
  put_digits(out + 17, static_cast<int>(in_day % 60), 2);
}

std::string format_timestamp(int64_t epoch_seconds) {
  std::string out(kTimestampChars, ' ');
  put_timestamp(out.data(), epoch_seconds);
  return out;
}

}  // namespace loadcast
