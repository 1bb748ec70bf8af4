// Five-minute aggregates (docs/outputs.md): per (server, bucket) sums of the eight
// measures and the session count, in an open-addressing hash table. Partial
// tables are a monoid: `merge_from` adds one into another, the same way for
// threads and (later) ranks.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "aggregate/measures.h"
#include "common/huge_pages.h"

namespace loadcast {

inline constexpr int64_t kBucketSeconds = 300;

struct BucketSums {
  std::array<double, kNumMeasures> sum{};  // kMeasureNames order
  int64_t sessions = 0;

  void add(const BucketSums& other) {
    for (int m = 0; m < kNumMeasures; ++m) sum[m] += other.sum[m];
    sessions += other.sessions;
  }
};

// A server key: an IPv4 address is its 32-bit value; any other server text
// is an id in a ServerDictionary with bit 32 set.
using ServerKey = uint64_t;
inline constexpr ServerKey kDictionaryServerBit = 1ull << 32;

// Packs (server, bucket) into one non-zero 64-bit key. Buckets of years
// 1900..2200 fit in 27 bits once offset.
inline constexpr int kBucketBits = 27;
inline constexpr int64_t kBucketOffset = int64_t{1} << (kBucketBits - 1);
inline uint64_t pack_bucket_key(ServerKey server, int64_t bucket) {
  return (server << kBucketBits) | static_cast<uint64_t>(bucket + kBucketOffset);
}
inline ServerKey key_server(uint64_t key) { return key >> kBucketBits; }
inline int64_t key_bucket(uint64_t key) {
  return static_cast<int64_t>(key & ((uint64_t{1} << kBucketBits) - 1)) - kBucketOffset;
}
inline bool bucket_in_range(int64_t bucket) {
  return bucket >= -kBucketOffset && bucket < kBucketOffset;
}

class BucketTable {
 public:
  struct Entry {
    uint64_t key;
    BucketSums sums;
  };
  using Entries = GrowableArray<Entry>;

  explicit BucketTable(size_t initial_capacity = 1024);

  // The sums of `key`, inserted as zeros when absent.
  BucketSums& at(uint64_t key) { return entries_[index_of(key)].sums; }

  // The position of `key` in entries(), inserted as zeros when absent.
  uint32_t index_of(uint64_t key) {
    in_order_ = false;
    return look_up(key);
  }

  // index_of() for keys that come mostly in time order for each server, as
  // a chunk's lines do. Each server's last entry and latest bucket are
  // remembered: the key of its last entry is found there, and a key past
  // its latest bucket is new, appended without a look at the hash slots (a
  // likely cache miss); the slots catch up only when an earlier bucket
  // comes. Once index_of() has been used on a table, every key goes
  // through the slots until clear(). (The ingest checks the server's last
  // entry itself before it calls this: one look at the server map per new
  // bucket.)
  uint32_t index_of_in_order(uint64_t key);

  // The position of `key` in entries(), kAbsent when it is not there.
  static constexpr uint32_t kAbsent = 0xffffffffu;
  uint32_t find(uint64_t key) {
    if (indexed_ < entries_.size()) index_rest();
    for (size_t slot = hash(key) & mask_;; slot = (slot + 1) & mask_) {
      const uint32_t index = slots_[slot];
      if (index == kEmpty || entries_[index].key == key) return index;
    }
  }

  // Adds every entry of `other` into this table.
  void merge_from(const BucketTable& other);
  // Bounds the memory the table grows to: no reservation goes past
  // `entries`. REQUIRES: the caller never inserts more (see BoundedAggregate).
  void limit_entries(size_t entries) { max_entries_ = entries; }
  size_t max_entries() const { return max_entries_; }
  // Moves the entries `leaving` selects to the end, in no particular order,
  // and returns how many stay; the table is unusable until truncate(that).
  template <typename Pred>
  size_t partition_out(Pred leaving) {
    return static_cast<size_t>(std::partition(entries_.begin(), entries_.end(),
                                              [&](const Entry& e) { return !leaving(e); }) -
                               entries_.begin());
  }
  // Keeps the first `entries` entries (and the memory reserved).
  void truncate(size_t entries);
  void clear();
  // Makes room for `entries` entries without rehashing on the way.
  void reserve(size_t entries);
  size_t size() const { return entries_.size(); }
  const Entries& entries() const { return entries_; }
  Entries& entries() { return entries_; }
  size_t memory_bytes() const {
    return slots_.capacity() * sizeof(uint32_t) + entries_.capacity() * sizeof(Entry) +
           servers_.capacity() * sizeof(LastOfServer);
  }

 private:
  static constexpr uint32_t kEmpty = kAbsent;
  static uint64_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return key;
  }
  uint32_t look_up(uint64_t key) {
    if (indexed_ < entries_.size()) index_rest();
    size_t slot = hash(key) & mask_;
    while (true) {
      const uint32_t index = slots_[slot];
      if (index == kEmpty) return insert(key, slot);
      if (entries_[index].key == key) return index;
      slot = (slot + 1) & mask_;
    }
  }
  uint32_t insert(uint64_t key, size_t slot);
  // Appends `key` with zero sums, not yet in the slots.
  uint32_t append(uint64_t key);
  // Puts the entries appended since the last look-up into the slots.
  void index_rest();
  // More slots, at least twice `entries`; every entry placed anew.
  void grow(size_t entries);
  void rehash();
  // Puts entries_[first..] into the slots.
  void place_from(size_t first);

  // A server's last entry and its latest key in the table.
  struct LastOfServer {
    ServerKey server;
    uint32_t entry;  // kEmpty: a free place
    uint64_t latest;
  };
  // Where `server` is in servers_, or the free place it would take.
  size_t server_place(ServerKey server) const {
    const size_t mask = servers_.size() - 1;
    for (size_t i = hash(server) & mask;; i = (i + 1) & mask)
      if (servers_[i].entry == kEmpty || servers_[i].server == server) return i;
  }
  void forget_servers();

  HugeVector<uint32_t> slots_;  // index into entries_, or kEmpty
  Entries entries_;             // dense, in insertion order
  size_t indexed_ = 0;          // entries_[0, indexed_) are in the slots
  size_t mask_ = 0;
  size_t max_entries_ = std::numeric_limits<size_t>::max();
  // Open addressing by server, at most half full: what index_of_in_order()
  // remembers; valid while in_order_.
  std::vector<LastOfServer> servers_;
  size_t server_count_ = 0;
  bool in_order_ = true;
};

// A five-minute bucket of one server: its epoch bucket number and sums.
struct ServerBucket {
  int64_t bucket;
  BucketSums sums;
};

// The five-minute aggregates of one input chunk: merged in global chunk
// order, partials give the same sums whatever the thread or rank count.
struct ChunkPartial {
  uint64_t chunk = 0;  // global chunk index
  BucketTable table;
};

}  // namespace loadcast
