// Validation of the ServerIP field (docs/data-format.md): an IPv4 dotted quad without
// leading zeros, or an IPv6 address in RFC 4291 text form without a zone id.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace loadcast {

// The address as a 32-bit number when `text` is a valid IPv4 address.
std::optional<uint32_t> parse_ipv4(std::string_view text);
bool is_valid_ipv6(std::string_view text);
inline bool is_valid_server_ip(std::string_view text) {
  return parse_ipv4(text).has_value() || is_valid_ipv6(text);
}
// Dotted text of a 32-bit IPv4 address.
void append_ipv4(std::string& out, uint32_t address);

}  // namespace loadcast
