// Number text for loadcast: the decimal parser of SPEC §1 (correctly rounded,
// NaN/inf/overflow are missing) and the shortest round-trip writer of §6.
#pragma once

#include <cstdint>
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

}  // namespace number_detail


// A plain decimal: optional sign, digits, optional fraction, optional
// exponent. NaN, infinities, text, empty input and overflow are missing
// (false); underflow gives 0. Inline and without std::optional because the
// ingest calls it eight times a line.
inline bool parse_decimal(std::string_view text, double& value) {
  if (number_detail::parse_simple_decimal(text.data(), text.data() + text.size(), value)) return true;
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

}  // namespace loadcast
