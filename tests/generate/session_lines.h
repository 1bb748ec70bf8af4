// Test-side reading of generated session lines, written independently of the
// generator (and of the ETL) so the tests check the output, not the code.
#pragma once

#include <arpa/inet.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "support/csv.h"

namespace loadcast::generate::testing {

// RFC 4180 fields of one line (no newline).
inline std::vector<std::string> split_csv(std::string_view line) {
  return loadcast::testing::split_csv_line(line);
}

using loadcast::testing::split_lines;

// Exactly `YYYY-MM-DD HH:MM:SS` of a real calendar date and time.
inline std::optional<int64_t> parse_plain_time(std::string_view t) {
  if (t.size() != 19 || t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
  }
  auto num = [&](int at, int n) {
    int v = 0;
    for (int i = 0; i < n; ++i) v = v * 10 + (t[at + i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  int hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

inline bool valid_ipv4(std::string_view ip) {
  int octets = 0;
  size_t i = 0;
  while (true) {
    size_t begin = i;
    int value = 0;
    while (i < ip.size() && ip[i] >= '0' && ip[i] <= '9' && i - begin < 4)
      value = value * 10 + (ip[i++] - '0');
    size_t digits = i - begin;
    if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && ip[begin] == '0')) return false;
    ++octets;
    if (i == ip.size()) return octets == 4;
    if (ip[i] != '.' || octets == 4) return false;
    ++i;
  }
}

inline bool valid_ipv6(const std::string& ip) {
  unsigned char buffer[16];
  return ip.find('%') == std::string::npos && inet_pton(AF_INET6, ip.c_str(), buffer) == 1;
}

inline bool valid_server_ip(const std::string& ip) { return valid_ipv4(ip) || valid_ipv6(ip); }

// A plain decimal as the ETL reads it; nullopt for missing values.
inline std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace loadcast::generate::testing
