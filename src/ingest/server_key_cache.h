// Validates ServerIP texts and maps them to server keys for the ingest hot
// path. A fleet has few servers, so their texts are remembered in two small
// direct-mapped tables: one for texts of up to 16 bytes (IPv4 and short IPv6),
// compared as two 64-bit words, and one for longer IPv6 texts, compared
// bytewise. Nearly every line hits and skips the address grammar (and, for
// IPv6, the shared dictionary's lock). Validity is a function of the text
// alone, so caching cannot change a line's fate.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "aggregate/bucket_table.h"
#include "aggregate/server_dictionary.h"

namespace loadcast {

class ServerKeyCache {
 public:
  explicit ServerKeyCache(ServerDictionary& servers) : servers_(servers) {}

  // The key of a valid IPv4/IPv6 text into `key`; false for an invalid one.
  // `readable_end`: bytes up to here may be read past the text's end.
  // `entry`: a place kept with the text for the caller's use (the ingest
  // keeps the server's last table entry there, and checks it before use).
  bool key_for(std::string_view text, const char* readable_end, ServerKey& key, uint32_t*& entry) {
    if (text.size() > 16 || text.empty()) return long_key_for(text, key, entry);
    uint64_t lo = 0, hi = 0;
    load16(text, readable_end, lo, hi);
    ShortSlot& slot =
        short_[((lo * 0x9E3779B97F4A7C15ULL) ^ (hi * 0xC2B2AE3D27D4EB4FULL) ^ text.size()) >>
               (64 - kShortBits)];
    entry = &slot.entry;
    if (slot.length == text.size() && slot.lo == lo && slot.hi == hi) {
      key = slot.key;
      return true;
    }
    if (!resolve(text, key)) return false;  // invalid texts are not remembered
    slot = ShortSlot{lo, hi, key, static_cast<uint8_t>(text.size()), kNoEntry};
    return true;
  }
  static constexpr uint32_t kNoEntry = 0xffffffffu;

 private:
  // 4096 slots: with a few hundred servers, few of them share a slot.
  static constexpr int kShortBits = 12;
  static constexpr int kLongBits = 8;
  static constexpr size_t kLongText = 46;  // the longest IPv6 text (with an embedded IPv4)

  struct ShortSlot {
    uint64_t lo = 0, hi = 0;
    ServerKey key = 0;
    uint8_t length = 0xff;  // 0xff: empty
    uint32_t entry = kNoEntry;
  };
  static_assert(sizeof(ShortSlot) == 32);
  struct LongSlot {
    ServerKey key = 0;
    uint32_t entry = kNoEntry;
    uint8_t length = 0;  // 0: empty
    char text[kLongText] = {};
  };

  // The text's bytes, zero-padded to 16 (little-endian lanes).
  static void load16(std::string_view text, const char* readable_end, uint64_t& lo, uint64_t& hi) {
    const size_t n = text.size();
    if (text.data() + 16 <= readable_end) {
      std::memcpy(&lo, text.data(), 8);
      std::memcpy(&hi, text.data() + 8, 8);
      if (n < 8) {
        lo &= (uint64_t{1} << (8 * n)) - 1;
        hi = 0;
      } else if (n < 16) {
        hi &= (uint64_t{1} << (8 * (n - 8))) - 1;
      }
    } else {
      char buffer[16] = {};
      std::memcpy(buffer, text.data(), n);
      std::memcpy(&lo, buffer, 8);
      std::memcpy(&hi, buffer + 8, 8);
    }
  }

  bool long_key_for(std::string_view text, ServerKey& key, uint32_t*& entry);
  bool resolve(std::string_view text, ServerKey& key);

  ServerDictionary& servers_;
  std::array<ShortSlot, size_t{1} << kShortBits> short_{};
  std::array<LongSlot, size_t{1} << kLongBits> long_{};
  uint32_t uncached_entry_ = kNoEntry;  // the `entry` of a text not kept
};

}  // namespace loadcast
