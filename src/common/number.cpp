#include "common/number.h"

#include <fast_float/fast_float.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

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
// one is shorter (a tie goes to fixed). Returns null, writing nothing, when
// the value is not such a number or its scientific form is the shorter.
char* put_whole(char* out, double value) {
  if (!(value > -1e15 && value < 1e15)) return nullptr;
  const auto whole = static_cast<int64_t>(value);
  if (whole == 0 || static_cast<double>(whole) != value) return nullptr;
  uint64_t rest = whole < 0 ? 0 - static_cast<uint64_t>(whole) : static_cast<uint64_t>(whole);
  // Two digits at a time, from the last: "00".."99".
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  // The text ends 20 bytes into the buffer and is copied as a fixed 20 bytes
  // (out has room for kMaxDoubleChars): a copy of its own length would be a
  // call to memcpy.
  char digits[40] = {};
  char* const end = digits + 18;
  end[0] = '.';
  end[1] = '0';
  char* first = end;
  while (rest >= 100) {
    const auto pair = static_cast<size_t>(rest % 100);
    rest /= 100;
    first -= 2;
    std::memcpy(first, kPairs + 2 * pair, 2);
  }
  if (rest >= 10) {
    first -= 2;
    std::memcpy(first, kPairs + 2 * rest, 2);
  } else {
    *--first = static_cast<char>('0' + rest);
  }
  const auto length = static_cast<int>(end - first);
  int trailing_zeros = 0;
  while (end[-1 - trailing_zeros] == '0') ++trailing_zeros;
  const int significant = length - trailing_zeros;
  // "d[.ddd]e+XX": the exponent is below 15, two digits.
  const int scientific = significant + (significant > 1 ? 1 : 0) + 4;
  if (length > scientific) return nullptr;
  if (whole < 0) *--first = '-';
  std::memcpy(out, first, 20);
  return out + (end + 2 - first);
}

// The text of the last values of other kinds, per thread: shortest digits
// are the costliest part of writing a table, and many cells repeat a value
// from a few rows before (a day's daily lags stand on each of its 24 hours).
struct RecentTexts {
  static constexpr int kSlots = 64;
  struct Slot {
    uint64_t bits = 0;  // 0 is +0.0, which never comes here
    uint8_t length = 0;
    char text[kMaxDoubleChars];
  };
  Slot slots[kSlots];
  static size_t slot_of(uint64_t bits) { return (bits * 0x9E3779B97F4A7C15ULL) >> 58; }
};
thread_local RecentTexts recent_texts;

}  // namespace

char* put_double(char* out, double value) {
  if (value == 0 && !std::signbit(value)) {
    out[0] = '0';
    out[1] = '.';
    out[2] = '0';
    return out + 3;
  }
  if (char* end = put_whole(out, value)) return end;
  const auto bits = std::bit_cast<uint64_t>(value);
  RecentTexts::Slot& slot = recent_texts.slots[RecentTexts::slot_of(bits)];
  if (slot.bits != bits) {
    char* const text = slot.text;
    const auto result = std::to_chars(text, text + kMaxDoubleChars - 2, value);
    bool looks_integral = true;
    for (const char* p = text; p != result.ptr; ++p) {
      if (*p == '.' || *p == 'e' || *p == 'n' || *p == 'i') looks_integral = false;
    }
    char* end = result.ptr;
    if (looks_integral) {
      *end++ = '.';
      *end++ = '0';
    }
    slot.bits = bits;
    slot.length = static_cast<uint8_t>(end - text);
  }
  // The whole slot, a fixed size (out has room for kMaxDoubleChars): a copy
  // of the text's own length compiles to a slow string move.
  std::memcpy(out, slot.text, kMaxDoubleChars);
  return out + slot.length;
}

void append_double(std::string& out, double value) {
  char text[kMaxDoubleChars];
  out.append(text, put_double(text, value));
}

std::string format_double(double value) {
  std::string out;
  append_double(out, value);
  return out;
}

}  // namespace loadcast
