#include "common/number.h"

#include <fast_float/fast_float.h>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace loadcast {

std::optional<double> parse_decimal_general(std::string_view text) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  const bool plus = begin != end && *begin == '+';
  if (plus) ++begin;  // fast_float takes '-' only
  if (begin == end) return std::nullopt;
  // Digits or a point must follow the one sign: this rejects NaN, inf and "+-1".
  const char* first = begin + (!plus && *begin == '-' ? 1 : 0);
  if (first == end || !(static_cast<unsigned>(*first - '0') <= 9 || *first == '.'))
    return std::nullopt;
  double value = 0;
  const auto result = fast_float::from_chars(begin, end, value);
  if (result.ptr != end || !std::isfinite(value)) return std::nullopt;
  if (result.ec != std::errc() && result.ec != std::errc::result_out_of_range) return std::nullopt;
  return value;
}

void append_double(std::string& out, double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  bool looks_integral = true;
  for (const char* p = buffer; p != result.ptr; ++p) {
    if (*p == '.' || *p == 'e' || *p == 'n' || *p == 'i') looks_integral = false;
  }
  out.append(buffer, result.ptr);
  if (looks_integral) out.append(".0");
}

std::string format_double(double value) {
  std::string out;
  append_double(out, value);
  return out;
}

}  // namespace loadcast
