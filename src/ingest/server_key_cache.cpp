#include "ingest/server_key_cache.h"

#include <functional>

#include "common/ip_address.h"

namespace loadcast {

bool ServerKeyCache::long_key_for(std::string_view text, ServerKey& key, uint32_t*& entry) {
  entry = &uncached_entry_;
  if (text.empty() || text.size() > kLongText) return resolve(text, key);
  LongSlot& slot = long_[std::hash<std::string_view>{}(text) & ((size_t{1} << kLongBits) - 1)];
  if (slot.length == text.size() && std::memcmp(slot.text, text.data(), text.size()) == 0) {
    key = slot.key;
    entry = &slot.entry;
    return true;
  }
  if (!resolve(text, key)) return false;
  slot.key = key;
  slot.entry = kNoEntry;
  entry = &slot.entry;
  slot.length = static_cast<uint8_t>(text.size());
  std::memcpy(slot.text, text.data(), text.size());
  return true;
}

bool ServerKeyCache::resolve(std::string_view text, ServerKey& key) {
  if (const auto ipv4 = parse_ipv4(text)) {
    key = ServerKey{*ipv4};
    return true;
  }
  if (!is_valid_ipv6(text)) return false;
  key = servers_.key_for(text);
  return true;
}

}  // namespace loadcast
