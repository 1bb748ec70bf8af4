// UTC civil time for loadcast: parsing the timestamps of docs/data-format.md (the ingest
// hot path and the configuration share this one parser), formatting them, and
// converting between epoch seconds and calendar fields.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace loadcast {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kSecondsPerHour = 3600;
inline constexpr int64_t kSecondsPerDay = 86400;

// Nanoseconds since 1970-01-01 00:00:00 UTC. Sub-nanosecond fractions round
// up, so comparisons with whole-nanosecond bounds stay exact.
using TimeNs = int64_t;

struct CivilDate {
  int year;
  int month;  // 1..12
  int day;    // 1..31
};

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int year, int month, int day);
CivilDate civil_from_days(int64_t days);
// 0 = Monday .. 6 = Sunday.
int weekday_from_days(int64_t days);
int days_in_month(int year, int month);

// Parses `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]` with `T` allowed instead of
// the space. Returns nullopt for anything else, including impossible dates
// and times and the year 0000. Times outside what TimeNs can hold (about
// the years 1677 to 2262) clamp to its range.
//
// `cache`, when given, remembers the last date part: consecutive log lines
// mostly share their day, so the calendar arithmetic is skipped for them.
struct DateCache {
  char date[10] = {};
  int64_t days = 0;
  bool valid = false;
};
std::optional<TimeNs> parse_timestamp(std::string_view text, DateCache* cache = nullptr);

// Floor division that is correct for negative numerators.
constexpr int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// parse_timestamp(text, &cache) for the ingest hot path: a plain
// `YYYY-MM-DD HH:MM:SS` of the cached day is read inline, its time of day
// eight bytes at a time (SWAR); anything else takes parse_timestamp. Returns
// false for an invalid text (no std::optional: returning one through memory
// stalls the hot loop).
// `seconds`: the whole seconds of `out` (rounded down).
inline bool parse_timestamp_cached(std::string_view text, DateCache& cache, TimeNs& out,
                                   int64_t& seconds) {
  const char* p = text.data();
  constexpr int64_t kNoClampDays = 100'000;  // 1696..2243: no clamping to TimeNs's range
  if (text.size() == 19 && cache.valid && std::memcmp(cache.date, p, 10) == 0 &&
      (p[10] == ' ' || p[10] == 'T') && cache.days > -kNoClampDays && cache.days < kNoClampDays) {
    uint64_t v;
    std::memcpy(&v, p + 11, 8);  // "HH:MM:SS", byte i = character i
    constexpr uint64_t kDigitBytes = 0xFFFF00FFFF00FFFFULL;
    constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL & kDigitBytes;
    constexpr uint64_t kThrees = 0x3030303030303030ULL & kDigitBytes;
    const bool colons = (v & ~kDigitBytes) == 0x00003A00003A0000ULL;
    // A digit byte has high nibble 3, and still 3 after adding 6.
    const bool digits =
        (v & kHigh) == kThrees && ((v + (0x0606060606060606ULL & kDigitBytes)) & kHigh) == kThrees;
    if (colons && digits) {
      const uint64_t d = v & 0x0F0F000F0F000F0FULL;
      const uint64_t pairs = d * 10 + (d >> 8);  // bytes 0, 3, 6: hour, minute, second
      const int64_t hour = static_cast<int64_t>(pairs & 0xFF);
      const int64_t minute = static_cast<int64_t>((pairs >> 24) & 0xFF);
      const int64_t second = static_cast<int64_t>((pairs >> 48) & 0xFF);
      if (hour <= 23 && minute <= 59 && second <= 59) {
        seconds = cache.days * kSecondsPerDay + hour * 3600 + minute * 60 + second;
        out = seconds * kNanosPerSecond;
        return true;
      }
    }
  }
  const auto general = parse_timestamp(text, &cache);
  if (!general) return false;
  out = *general;
  seconds = floor_div(out, kNanosPerSecond);
  return true;
}

inline int64_t seconds_of(TimeNs t) { return floor_div(t, kNanosPerSecond); }

// `YYYY-MM-DD HH:MM:SS` of a whole second since the epoch.
std::string format_timestamp(int64_t epoch_seconds);
// The same text in the kTimestampChars chars at `out`. Each thread keeps the
// text of its last date: the tables' rows run hour after hour through a day.
inline constexpr size_t kTimestampChars = 19;
void put_timestamp(char* out, int64_t epoch_seconds);
// `YYYY-MM-DD` of a day since the epoch.
std::string format_day(int64_t epoch_days);

}  // namespace loadcast
