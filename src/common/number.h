// Number text for loadcast: the decimal parser of docs/data-format.md (correctly rounded,
// NaN/inf/overflow are missing) and the shortest round-trip writer of the
// output tables (docs/outputs.md).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace loadcast {

// The general path of parse_decimal, through fast_float.
std::optional<double> parse_decimal_general(std::string_view text);

namespace number_detail {

inline constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                          1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                          1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// The common case `[-]digits[.digits]` with a mantissa below 2^53: both the
// mantissa and the power of ten are exact doubles, so one division rounds
// correctly (Clinger's fast path). Anything else returns false.
inline bool parse_simple_decimal(const char* p, const char* end, double& out) {
  bool negative = false;
  if (p != end && *p == '-') {
    negative = true;
    ++p;
  }
  uint64_t mantissa = 0;
  int digits = 0;
  int fraction = 0;
  bool point = false;
  for (; p != end; ++p) {
    const unsigned d = static_cast<unsigned>(*p - '0');
    if (d <= 9) {
      mantissa = mantissa * 10 + d;
      ++digits;
      fraction += point;
    } else if (*p == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15 || fraction > 22) return false;
  double value = static_cast<double>(mantissa);
  if (fraction) value /= kPowersOfTen[fraction];
  out = negative ? -value : value;
  return true;
}

// `[digits][.][digits]` of at most 8 bytes with at least one digit, eight
// bytes at a time (SWAR). `p[0..8)` must be readable; the bytes past `n` are
// ignored. Same result as parse_simple_decimal; false for anything else.
inline bool parse_short_decimal(const char* p, size_t n, double& out) {
  if (n - 1 >= 8) return false;  // n is 1..8
  uint64_t v;
  std::memcpy(&v, p, 8);  // byte i = character i (little-endian)
  // Left-align the text so that its last character is byte 7, and fill the
  // bytes before its first character with '0': leading zeros, which do not
  // change the value. Byte 0 is then the most significant of eight digits.
  const unsigned pad = 8 * (8 - static_cast<unsigned>(n));  // 0..56
  uint64_t w = (v << pad) | (0x3030303030303030ULL & ~(~uint64_t{0} << pad));
  // The first '.', if any: a byte equal to '.' has zero xor (the lowest zero
  // byte is found exactly; a second dot fails the digit test below).
  const uint64_t x = w ^ 0x2E2E2E2E2E2E2E2EULL;
  const uint64_t dots = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
  int fraction = 0;
  if (dots) {
    if (n == 1) return false;  // "." alone has no digit
    const unsigned k = static_cast<unsigned>(__builtin_ctzll(dots)) & ~7u;  // the dot's bit offset
    fraction = 7 - static_cast<int>(k / 8);
    // Drop the dot: the digits before it move up one byte, a '0' enters below.
    const uint64_t before = w & ((uint64_t{1} << k) - 1);
    const uint64_t after = w & (~uint64_t{0} << k << 8);
    w = after | (before << 8) | 0x30;
  }
  // Every byte is 0x30..0x39: high nibble 3, and still 3 after adding 6.
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL, kZeros = 0x3030303030303030ULL;
  if ((((w & kHigh) ^ kZeros) | (((w + 0x0606060606060606ULL) & kHigh) ^ kZeros)) != 0)
    return false;
  // Combine digit pairs, then pairs of pairs, then halves.
  uint64_t d = w - kZeros;
  d = (d * 10 + (d >> 8)) & 0x00FF00FF00FF00FFULL;
  d = (d * 100 + (d >> 16)) & 0x0000FFFF0000FFFFULL;
  d = (d * 10000 + (d >> 32)) & 0xFFFFFFFFULL;
  double value = static_cast<double>(d);
  if (fraction) value /= kPowersOfTen[fraction];
  out = value;
  return true;
}

}  // namespace number_detail

// A plain decimal: optional sign, digits, optional fraction, optional
// exponent. NaN, infinities, text, empty input and overflow are missing
// (false); underflow gives 0. Inline and without std::optional because the
// ingest calls it eight times a line.
inline bool parse_decimal(std::string_view text, double& value) {
  if (number_detail::parse_simple_decimal(text.data(), text.data() + text.size(), value))
    return true;
  const auto general = parse_decimal_general(text);
  if (general) value = *general;
  return general.has_value();
}

inline std::optional<double> parse_decimal(std::string_view text) {
  double value;
  if (parse_decimal(text, value)) return value;
  return std::nullopt;
}

// The shortest text that reads back to the same double. Whole numbers keep a
// ".0" so that pandas and DuckDB read the column as floating point.
void append_double(std::string& out, double value);
std::string format_double(double value);
// The same text at `out`, at most kMaxDoubleChars; returns its end.
inline constexpr size_t kMaxDoubleChars = 26;  // std::to_chars' 24 at most, and ".0"
char* put_double(char* out, double value);
// The decimal digits of an integer.
inline constexpr size_t kMaxIntChars = 20;
inline char* put_int(char* out, int64_t value) {
  return std::to_chars(out, out + kMaxIntChars, value).ptr;
}
inline void append_int(std::string& out, int64_t value) {
  char buffer[kMaxIntChars];
  out.append(buffer, put_int(buffer, value));
}

}  // namespace loadcast
