#include "aggregate/bucket_table.h"

#include <algorithm>
#include <bit>

namespace loadcast {

BucketTable::BucketTable(size_t initial_capacity) {
  const size_t capacity = std::bit_ceil(std::max<size_t>(initial_capacity, 16));
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
}

BucketSums& BucketTable::insert(uint64_t key, size_t slot) {
  // Keep the load factor at or below one half.
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    grow();
    slot = hash(key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  }
  slots_[slot] = static_cast<uint32_t>(entries_.size());
  entries_.push_back(Entry{key, BucketSums{}});
  return entries_.back().sums;
}

void BucketTable::grow() {
  const size_t capacity = slots_.size() * 2;
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t slot = hash(entries_[i].key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<uint32_t>(i);
  }
}

void BucketTable::merge_from(const BucketTable& other) {
  for (const Entry& e : other.entries_) at(e.key).add(e.sums);
}

void BucketTable::clear() {
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  entries_.clear();
}

}  // namespace loadcast
