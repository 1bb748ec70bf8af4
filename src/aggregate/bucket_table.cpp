#include "aggregate/bucket_table.h"

#include <algorithm>
#include <bit>

namespace loadcast {

BucketTable::BucketTable(size_t initial_capacity) {
  const size_t capacity = std::bit_ceil(std::max<size_t>(initial_capacity, 16));
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
}

uint32_t BucketTable::insert(uint64_t key, size_t slot) {
  // Keep the load factor at or below one half.
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    grow();
    slot = hash(key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  }
  const auto index = static_cast<uint32_t>(entries_.size());
  if (entries_.size() == entries_.capacity())
    entries_.reserve(std::min(std::max<size_t>(16, entries_.capacity() * 2),
                              std::max(max_entries_, entries_.size() + 1)));
  slots_[slot] = index;
  entries_.push_back(Entry{key, BucketSums{}});
  return index;
}

void BucketTable::grow() {
  const size_t capacity = slots_.size() * 2;
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  rehash();
}

void BucketTable::rehash() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t slot = hash(entries_[i].key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<uint32_t>(i);
  }
}

void BucketTable::reserve(size_t entries) {
  if (entries > entries_.capacity())
    entries_.reserve(
        std::min(std::max(entries, entries_.capacity() * 2), std::max(max_entries_, entries)));
  while (entries * 2 > slots_.size()) grow();
}

void BucketTable::merge_from(const BucketTable& other) {
  // A large table misses the cache on nearly every key: prefetch the slot of
  // a key further ahead, and the entry of a key halfway there, so the misses
  // overlap instead of queueing.
  const Entries& source = other.entries_;
  reserve(entries_.size() + source.size());
  constexpr size_t kSlotAhead = 16;
  constexpr size_t kEntryAhead = 8;
  const size_t n = source.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kSlotAhead < n) __builtin_prefetch(&slots_[hash(source[i + kSlotAhead].key) & mask_]);
    if (i + kEntryAhead < n) {
      const uint32_t index = slots_[hash(source[i + kEntryAhead].key) & mask_];
      if (index != kEmpty) __builtin_prefetch(&entries_[index]);
    }
    at(source[i].key).add(source[i].sums);
  }
}

void BucketTable::sum_in_place(Entries&& contributions) {
  entries_ = std::move(contributions);
  const size_t n = entries_.size();
  size_t capacity = slots_.size();
  while (n * 2 > capacity) capacity *= 2;
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  uint32_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const Entry e = entries_[i];
    size_t slot = hash(e.key) & mask_;
    while (slots_[slot] != kEmpty && entries_[slots_[slot]].key != e.key) slot = (slot + 1) & mask_;
    if (slots_[slot] == kEmpty) {
      slots_[slot] = kept;
      entries_[kept] = Entry{e.key, BucketSums{}};
      ++kept;
    }
    entries_[slots_[slot]].sums.add(e.sums);
  }
  entries_.resize(kept);
}

void BucketTable::truncate(size_t entries) {
  entries_.resize(entries);
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  rehash();
}

void BucketTable::clear() {
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  entries_.clear();
}

}  // namespace loadcast
