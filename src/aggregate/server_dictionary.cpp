#include "aggregate/server_dictionary.h"

#include "common/ip_address.h"

namespace loadcast {

ServerKey ServerDictionary::key_for(std::string_view text) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = ids_.try_emplace(std::string(text), static_cast<uint32_t>(texts_.size()));
  if (inserted) texts_.emplace_back(text);
  return kDictionaryServerBit | it->second;
}

std::string ServerDictionary::text_of(ServerKey key) const {
  if (!(key & kDictionaryServerBit)) {
    std::string out;
    append_ipv4(out, static_cast<uint32_t>(key));
    return out;
  }
  std::lock_guard lock(mutex_);
  return texts_[static_cast<uint32_t>(key)];
}

}  // namespace loadcast
