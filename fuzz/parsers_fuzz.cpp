// The timestamp and address parsers of the ingest against small, plainly
// written references: the same texts accepted, the same instants and
// addresses read, through the cached path as through the general one. And
// blob URLs: a one-line usage error, or an address whose shown text (its SAS
// token left out) reads back to the same account, container, path and
// endpoint.
#include <arpa/inet.h>

#include <chrono>
#include <limits>
#include <optional>
#include <string>

#include "blob/storage.h"
#include "common/error.h"
#include "common/ip_address.h"
#include "common/time.h"
#include "fuzz_support.h"

namespace {

using namespace loadcast;

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}
int number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]`, `T` for the space, UTC, year
// 0 refused, in nanoseconds rounded up past the ninth digit, clamped to
// TimeNs.
std::optional<TimeNs> reference_timestamp(std::string_view s) {
  using namespace std::chrono;
  if (!digits(s, 0, 4) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || (s[10] != ' ' && s[10] != 'T') || !digits(s, 11, 2) || s[13] != ':' ||
      !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return std::nullopt;
  const int y = number(s, 0, 4), mo = number(s, 5, 2), d = number(s, 8, 2);
  const int h = number(s, 11, 2), mi = number(s, 14, 2), se = number(s, 17, 2);
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (y == 0 || !date.ok() || h > 23 || mi > 59 || se > 59) return std::nullopt;
  size_t i = 19;
  __int128 nanos = 0;
  if (i < s.size() && s[i] == '.') {
    const size_t first = ++i;
    bool beyond = false;
    int place = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (place < 9) {
        nanos = nanos * 10 + (s[i] - '0');
      } else if (s[i] != '0') {
        beyond = true;
      }
      ++place;
      ++i;
    }
    if (i == first) return std::nullopt;
    for (; place < 9; ++place) nanos *= 10;
    if (beyond) nanos += 1;
  }
  __int128 offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      if (!digits(s, i + 1, 2) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2))
        return std::nullopt;
      const int oh = number(s, i + 1, 2), om = number(s, i + 4, 2);
      if (oh > 23 || om > 59) return std::nullopt;
      offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      i += 6;
    }
  }
  if (i != s.size()) return std::nullopt;
  const __int128 seconds =
      static_cast<__int128>(sys_days(date).time_since_epoch().count()) * 86400 + h * 3600 +
      mi * 60 + se - offset;
  const __int128 total = seconds * 1'000'000'000 + nanos;
  constexpr TimeNs kMax = std::numeric_limits<TimeNs>::max();
  constexpr TimeNs kMin = std::numeric_limits<TimeNs>::min();
  if (total > kMax) return kMax;
  if (total < kMin) return kMin;
  return static_cast<TimeNs>(total);
}

// Dotted quads of 0..255, each part 1 to 3 digits without a leading zero.
std::optional<uint32_t> reference_ipv4(std::string_view s) {
  uint32_t address = 0;
  size_t at = 0;
  for (int part = 0; part < 4; ++part) {
    size_t end = at;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    const size_t n = end - at;
    if (n == 0 || n > 3 || (n > 1 && s[at] == '0')) return std::nullopt;
    const int v = number(s, at, n);
    if (v > 255) return std::nullopt;
    address = address << 8 | static_cast<uint32_t>(v);
    at = end;
    if (part < 3) {
      if (at >= s.size() || s[at] != '.') return std::nullopt;
      ++at;
    }
  }
  if (at != s.size()) return std::nullopt;
  return address;
}

// RFC 4291 text as the C library reads it, without a zone id.
bool reference_ipv6(std::string_view s) {
  const std::string text(s);
  if (text.find('\0') != std::string::npos || text.find('%') != std::string::npos) return false;
  unsigned char out[16];
  return inet_pton(AF_INET6, text.c_str(), out) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::text_of(data, size);

  const auto expected = reference_timestamp(text);
  const auto general = parse_timestamp(text);
  fuzz::check(expected == general, "parse_timestamp differs from the reference");
  DateCache cache;
  for (int pass = 0; pass < 2; ++pass) {  // the second pass finds the day cached
    TimeNs cached = 0;
    int64_t seconds = 0;
    const bool ok = parse_timestamp_cached(text, cache, cached, seconds);
    fuzz::check(ok == expected.has_value() && (!ok || cached == *expected),
                "the cached timestamp path differs from the reference");
    fuzz::check(!ok || seconds == floor_div(cached, kNanosPerSecond),
                "the cached timestamp path's seconds differ from its time");
  }

  fuzz::check(parse_ipv4(text) == reference_ipv4(text), "parse_ipv4 differs from the reference");
  if (!reference_ipv4(text))
    fuzz::check(is_valid_ipv6(text) == reference_ipv6(text),
                "is_valid_ipv6 differs from the reference");

  if (blob::is_blob_url(text)) {
    try {
      const blob::BlobUrl url = blob::parse_blob_url(std::string(text), "dataFile");
      const std::string shown = url.text();
      fuzz::check(shown.find('?') == std::string::npos, "a shown blob URL keeps its query");
      const blob::BlobUrl again = blob::parse_blob_url(shown, "dataFile");
      fuzz::check(again.account == url.account && again.container == url.container &&
                      again.path == url.path && again.endpoint == url.endpoint,
                  "a blob URL's shown text reads back to another address");
    } catch (const Failure& f) {
      fuzz::check(f.code() == ExitCode::kUsage, "a bad blob URL is not a usage error");
      fuzz::check(std::string_view(f.what()).find('\n') == std::string_view::npos,
                  "a bad blob URL's error is not one line");
    }
  }
  return 0;
}
