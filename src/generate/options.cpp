#include "generate/options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "common/time.h"

namespace loadcast::generate {

namespace {

// Fleet sizing when --servers is not given: a realistic per-server session
// rate, with enough servers for a fleet, and few enough that evaluating every
// server for every slice stays a small part of the work.
constexpr double kSessionsPerServerHour = 50;
constexpr double kBytesPerLineGuess = 100;
constexpr int kMinDefaultServers = 8;
constexpr int kMaxDefaultServers = 2000;

}  // namespace

void validate(const GenerateOptions& o) {
  if (o.end < o.start) {
    fail_usage("--end " + format_timestamp(o.end) + " is before --start " +
               format_timestamp(o.start));
  }
  if (o.size == 0) fail_usage("--size 0: the output must have at least one byte");
  if (!(o.dirty_rate >= 0 && o.dirty_rate <= 1)) {
    char value[32];
    std::snprintf(value, sizeof value, "%g", o.dirty_rate);
    fail_usage(std::string("--dirty-rate ") + value + " is outside [0, 1]");
  }
  if (o.servers != 0 && (o.servers < 2 || o.servers > 100000)) {
    fail_usage("--servers " + std::to_string(o.servers) +
               " is outside 2 .. 100000 (the fleet always holds 115.220.193.16 and "
               "210.181.165.92)");
  }
  if (o.layout != Layout::kSessions17 && o.layout != Layout::kSessions16) {
    fail_usage("--layout: expected sessions17 or sessions16");
  }
  if (o.threads < 0 || o.threads > 1024) {
    fail_usage("--threads " + std::to_string(o.threads) + " is outside 0 .. 1024");
  }
}

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

std::optional<Layout> parse_layout(std::string_view text) {
  if (text == "sessions17") return Layout::kSessions17;
  if (text == "sessions16") return Layout::kSessions16;
  return std::nullopt;
}

std::string_view layout_text(Layout layout) {
  return layout == Layout::kSessions16 ? "sessions16" : "sessions17";
}

std::optional<int64_t> parse_window_time(std::string_view text, bool end_of_day) {
  std::string full(text);
  if (text.size() == 10) full += end_of_day ? " 23:59:59" : " 00:00:00";
  std::optional<TimeNs> t = parse_timestamp(full);
  if (!t) return std::nullopt;
  return seconds_of(*t);
}

int default_servers(const GenerateOptions& o) {
  double hours = std::max(1.0, static_cast<double>(o.end - o.start + 1) / kSecondsPerHour);
  double lines = static_cast<double>(o.size) / kBytesPerLineGuess;
  double servers = std::round(lines / (hours * kSessionsPerServerHour));
  return static_cast<int>(
      std::clamp(servers, double{kMinDefaultServers}, double{kMaxDefaultServers}));
}

}  // namespace loadcast::generate
