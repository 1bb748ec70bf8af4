// Bearer-key authentication of the scoring service (docs/http-api.md): a primary and
// a secondary key (so keys can be rotated without downtime), read from a
// keys file or LOADCAST_SERVICE_KEYS, and compared in constant time.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace loadcast::serve {

class ServiceKeys {
 public:
  ServiceKeys() = default;  // no keys: every request is refused
  explicit ServiceKeys(std::vector<std::string> keys);

  // "primary,secondary" (commas or newlines; blank entries and `#` comment
  // lines skipped; surrounding spaces trimmed). Throws Failure(kUsage) when
  // the text holds no key or more than two.
  static ServiceKeys parse(std::string_view text, const std::string& origin);
  // Throws Failure(kUsage) naming the file when it cannot be read.
  static ServiceKeys from_file(const std::filesystem::path& file);

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

  // True when `authorization` is `Bearer <key>` for one of the keys. Every
  // key is compared in full, whatever matches, so timing reveals nothing.
  bool accepts(std::string_view authorization) const;

 private:
  std::vector<std::string> keys_;
};

// Compares in time that depends only on the lengths, never on the contents.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace loadcast::serve
