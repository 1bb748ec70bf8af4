#include "common/ip_address.h"

#include <cctype>
#include <string>

namespace loadcast {

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  uint32_t address = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    const char* start = p;
    unsigned value = 0;
    while (p != end && static_cast<unsigned>(*p - '0') <= 9 && p - start < 3) {
      value = value * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    const auto digits = p - start;
    if (digits == 0 || value > 255 || (digits > 1 && *start == '0')) return std::nullopt;
    address = (address << 8) | value;
  }
  if (p != end) return std::nullopt;
  return address;
}

bool is_valid_ipv6(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return false;
  int groups = 0;
  bool compressed = false;
  size_t i = 0;
  const size_t n = text.size();
  if (text[0] == ':') {
    if (text[1] != ':') return false;
    compressed = true;
    i = 2;
    if (i == n) return true;  // "::"
  }
  while (i < n) {
    // A group of 1-4 hex digits, or a trailing dotted IPv4 address.
    size_t j = i;
    while (j < n && j - i < 5 && std::isxdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j < n && text[j] == '.') {
      if (groups > 6 || !parse_ipv4(text.substr(i))) return false;
      groups += 2;
      i = n;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == n) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < n && text[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == n) break;
    } else if (i == n) {
      return false;  // trailing single colon
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

void append_ipv4(std::string& out, uint32_t address) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += std::to_string((address >> shift) & 0xff);
    if (shift) out += '.';
  }
}

}  // namespace loadcast
