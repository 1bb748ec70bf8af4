#include "ingest/server_key_cache.h"

#include <functional>
#include "ingest/server_ip.h"

namespace loadcast {

std::optional<ServerKey> ServerKeyCache::long_key_for(std::string_view text) {
  if (text.empty() || text.size() > kLongText) return resolve(text);
  LongSlot& slot = long_[std::hash<std::string_view>{}(text) & ((size_t{1} << kLongBits) - 1)];
  if (slot.length == text.size() && std::memcmp(slot.text, text.data(), text.size()) == 0) return slot.key;
  const auto key = resolve(text);
  if (key) {
    slot.key = *key;
    slot.length = static_cast<uint8_t>(text.size());
    std::memcpy(slot.text, text.data(), text.size());
  }
  return key;
}

std::optional<ServerKey> ServerKeyCache::resolve(std::string_view text) {
  if (const auto ipv4 = parse_ipv4(text)) return ServerKey{*ipv4};
  if (is_valid_ipv6(text)) return servers_.key_for(text);
  return std::nullopt;
}

}  // namespace loadcast
