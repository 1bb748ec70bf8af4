#include "common/size.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace loadcast {

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t digits_end = 0;
  while (digits_end < text.size() &&
         ((text[digits_end] >= '0' && text[digits_end] <= '9') || text[digits_end] == '.')) {
    ++digits_end;
  }
  std::string number(text.substr(0, digits_end));
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".") {
    return std::nullopt;
  }
  std::string_view suffix = text.substr(digits_end);
  if (suffix.ends_with("iB")) {
    suffix.remove_suffix(2);
  } else if (suffix.ends_with("B") || suffix.ends_with("b")) {
    suffix.remove_suffix(1);
  }
  double multiplier = 1;
  if (suffix.size() > 1) return std::nullopt;
  if (suffix.size() == 1) {
    switch (suffix[0]) {
      case 'k':
      case 'K':
        multiplier = 1024.0;
        break;
      case 'm':
      case 'M':
        multiplier = 1024.0 * 1024;
        break;
      case 'g':
      case 'G':
        multiplier = 1024.0 * 1024 * 1024;
        break;
      case 't':
      case 'T':
        multiplier = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        return std::nullopt;
    }
  }
  double value = std::strtod(number.c_str(), nullptr) * multiplier;
  if (!std::isfinite(value) || value >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(std::llround(value));
}

std::string format_size(uint64_t bytes) {
  static constexpr char kSuffixes[] = {'T', 'G', 'M', 'K'};
  for (int i = 0; i < 4; ++i) {
    uint64_t unit = uint64_t{1} << (10 * (4 - i));
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + kSuffixes[i];
  }
  return std::to_string(bytes);
}

std::string describe_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%llu bytes", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(text, sizeof text, value < 100 ? "%.1f %s" : "%.0f %s", value, kUnits[unit]);
  }
  return text;
}

}  // namespace loadcast
