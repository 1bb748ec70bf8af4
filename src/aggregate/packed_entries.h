// The chunks' five-minute entries in the order they arrived, packed: what
// the in-memory path keeps of the aggregate until the features stage adds
// them up (docs/operations.md, "Memory"). A chunk's sums of the load
// measures are sums of whole session counts, small whole numbers, and with
// the session count they take two bytes each; the megabytes keep their
// double. An entry is 32 bytes instead of 80: less new memory to fault in,
// and less to read back when the entries are gathered by server. An entry
// whose sums do not fit (fractions, negative or large numbers) is kept
// whole in three slots. Every sum reads back with the bits it was added up
// to, so the features stage adds exactly the same numbers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "aggregate/bucket_table.h"
#include "common/huge_pages.h"

namespace loadcast {

class PackedEntries {
 public:
  using Entry = BucketTable::Entry;

  // Appends entries, in order.
  void append(const Entry* first, const Entry* last);

  // An entry's place: positions run from 0 to end(), each entry's next()
  // being where the next one starts. They fit 32 bits while end() does.
  size_t end() const { return slots_.size(); }
  size_t next(size_t at) const { return at + (wide(at) ? kWideSlots : 1); }
  size_t size() const { return entries_; }
  bool empty() const { return entries_ == 0; }
  // What the entries hold, reserved room included, and what they use.
  size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }
  size_t used_bytes() const { return slots_.size() * sizeof(Slot); }
  void reserve_bytes(size_t bytes) { slots_.reserve(bytes / sizeof(Slot)); }
  // What `count` more entries need at most.
  static size_t bytes_for(size_t count) { return count * kWideSlots * sizeof(Slot); }

  uint64_t key(size_t at) const { return slots_[at].key & ~kWide; }
  // Adds the entry's sums into `sums`, as adding the entry's own would.
  void add_to(size_t at, BucketSums& sums) const {
    const Slot& s = slots_[at];
    if (s.key & kWide) [[unlikely]]
      return sums.add(whole(at).sums);
    sums.sum[0] += s.counts[0];
    sums.sum[1] += s.bytes;
    for (int m = 2; m < kNumMeasures; ++m) sums.sum[m] += s.counts[m - 1];
    sums.sessions += s.counts[kNumMeasures - 1];
  }
  Entry entry(size_t at) const;

  // Asks for the entry's line ahead of its use.
  void prefetch(size_t at) const { __builtin_prefetch(&slots_[at]); }

 private:
  // Measures 0 and 2..7 in counts[0..6], the session count in counts[7].
  struct Slot {
    uint64_t key;
    double bytes;  // kMeasureNames[1]
    uint16_t counts[kNumMeasures];
  };
  static_assert(sizeof(Slot) == 32);
  // Keys use 60 bits (pack_bucket_key): the top one marks a whole entry.
  static constexpr uint64_t kWide = uint64_t{1} << 63;
  static constexpr size_t kWideSlots = (sizeof(Entry) + sizeof(Slot) - 1) / sizeof(Slot);

  bool wide(size_t at) const { return (slots_[at].key & kWide) != 0; }
  Entry whole(size_t at) const;

  GrowableArray<Slot> slots_;
  size_t entries_ = 0;
};

}  // namespace loadcast
