#include "ingest/server_key_cache.h"

#include "ingest/server_ip.h"

namespace loadcast {

std::optional<ServerKey> ServerKeyCache::resolve(std::string_view text) {
  if (const auto ipv4 = parse_ipv4(text)) return ServerKey{*ipv4};
  if (is_valid_ipv6(text)) return servers_.key_for(text);
  return std::nullopt;
}

}  // namespace loadcast
