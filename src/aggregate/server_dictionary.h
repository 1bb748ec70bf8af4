// Ids for server texts that are not IPv4 addresses (IPv6), shared by all
// ingest workers. Ids depend on arrival order, so nothing visible may depend
// on them: outputs are ordered by the text.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aggregate/bucket_table.h"

namespace loadcast {

class ServerDictionary {
 public:
  ServerKey key_for(std::string_view text);
  // The server text of any key (IPv4 keys are formatted).
  std::string text_of(ServerKey key) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, uint32_t> ids_;  // guarded by mutex_
  std::vector<std::string> texts_;                 // guarded by mutex_
};

}  // namespace loadcast
