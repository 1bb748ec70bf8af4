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

namespace {

// A whole number of magnitude below 1e15 (most cells of the tables: peaks
// and lags are sums of whole measures), without the general algorithm. Such
// a double is exact, and its shortest digits are its own without trailing
// zeros; std::to_chars writes them in fixed notation unless the scientific
// one is shorter (a tie goes to fixed). Returns false, writing nothing, when
// the value is not such a number or its scientific form is the shorter.
bool append_whole(std::string& out, double value) {
  if (!(value > -1e15 && value < 1e15)) return false;
  const auto whole = static_cast<int64_t>(value);
  if (whole == 0 || static_cast<double>(whole) != value) return false;
  uint64_t rest = whole < 0 ? 0 - static_cast<uint64_t>(whole) : static_cast<uint64_t>(whole);
  char digits[16];
  char* first = digits + sizeof digits;
  int trailing_zeros = 0;
  bool in_trailing_zeros = true;
  do {
    const auto digit = static_cast<char>(rest % 10);
    in_trailing_zeros = in_trailing_zeros && digit == 0;
    trailing_zeros += in_trailing_zeros;
    *--first = static_cast<char>('0' + digit);
    rest /= 10;
  } while (rest != 0);
  const auto length = static_cast<int>(digits + sizeof digits - first);
  const int significant = length - trailing_zeros;
  // "d[.ddd]e+XX": the exponent is below 15, two digits.
  const int scientific = significant + (significant > 1 ? 1 : 0) + 4;
  if (length > scientific) return false;
  if (whole < 0) out += '-';
  out.append(first, static_cast<size_t>(length));
  out.append(".0");
  return true;
}

}  // namespace

void append_double(std::string& out, double value) {
  if (value == 0 && !std::signbit(value)) {
    out.append("0.0");
    return;
  }
  if (append_whole(out, value)) return;
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
