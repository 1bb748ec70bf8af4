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
    size_t slot = hash(key) & mask_;
    while (true) {
      const uint32_t index = slots_[slot];
      if (index == kEmpty) return insert(key, slot);
      if (entries_[index].key == key) return index;
      slot = (slot + 1) & mask_;
    }
  }

  // The position of `key` in entries(), kAbsent when it is not there.
  static constexpr uint32_t kAbsent = 0xffffffffu;
  uint32_t find(uint64_t key) const {
    for (size_t slot = hash(key) & mask_;; slot = (slot + 1) & mask_) {
      const uint32_t index = slots_[slot];
      if (index == kEmpty || entries_[index].key == key) return index;
    }
  }

  // Adds every entry of `other` into this table.
  void merge_from(const BucketTable& other);
  // Becomes the table of `contributions`: entries in the order they were
  // added, a key possibly repeated. Sums them where they lie (the first of a
  // key keeps its place), in the same operations as adding them one by one
  // to an empty table. REQUIRES: this table is empty.
  void sum_in_place(Entries&& contributions);
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
    return slots_.capacity() * sizeof(uint32_t) + entries_.capacity() * sizeof(Entry);
  }

 private:
  static constexpr uint32_t kEmpty = kAbsent;
  static uint64_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return key;
  }
  uint32_t insert(uint64_t key, size_t slot);
  void grow();
  void rehash();

  HugeVector<uint32_t> slots_;  // index into entries_, or kEmpty
  Entries entries_;             // dense, in insertion order
  size_t mask_ = 0;
  size_t max_entries_ = std::numeric_limits<size_t>::max();
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
