#include "aggregate/bucket_table.h"

#include <algorithm>
#include <bit>

namespace loadcast {

BucketTable::BucketTable(size_t initial_capacity) : servers_(16, LastOfServer{0, kEmpty, 0}) {
  const size_t capacity = std::bit_ceil(std::max<size_t>(initial_capacity, 16));
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
}

uint32_t BucketTable::insert(uint64_t key, size_t slot) {
  // Keep the load factor at or below one half.
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    grow(entries_.size() + 1);
    slot = hash(key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  }
  const uint32_t index = append(key);
  slots_[slot] = index;
  indexed_ = entries_.size();
  return index;
}

uint32_t BucketTable::append(uint64_t key) {
  const auto index = static_cast<uint32_t>(entries_.size());
  if (entries_.size() == entries_.capacity())
    entries_.reserve(std::min(std::max<size_t>(16, entries_.capacity() * 2),
                              std::max(max_entries_, entries_.size() + 1)));
  entries_.push_back(Entry{key, BucketSums{}});
  return index;
}

void BucketTable::index_rest() {
  if (entries_.size() * 2 <= slots_.size()) return place_from(indexed_);
  grow(entries_.size());  // which places every entry anew
}

uint32_t BucketTable::index_of_in_order(uint64_t key) {
  if (!in_order_) return look_up(key);
  const ServerKey server = key_server(key);
  size_t place = server_place(server);
  LastOfServer* last = &servers_[place];
  if (last->entry == kEmpty) {  // the server's first key here
    if ((server_count_ + 1) * 2 > servers_.size()) {
      std::vector<LastOfServer> old(servers_.size() * 2, LastOfServer{0, kEmpty, 0});
      old.swap(servers_);
      for (const LastOfServer& s : old)
        if (s.entry != kEmpty) servers_[server_place(s.server)] = s;
      last = &servers_[server_place(server)];
    }
    ++server_count_;
    *last = LastOfServer{server, append(key), key};
    return last->entry;
  }
  if (entries_[last->entry].key == key) return last->entry;
  if (key > last->latest) {  // past every bucket of the server here: new
    last->latest = key;
    last->entry = append(key);
  } else {
    last->entry = look_up(key);
  }
  return last->entry;
}

void BucketTable::forget_servers() {
  if (server_count_ > 0) std::fill(servers_.begin(), servers_.end(), LastOfServer{0, kEmpty, 0});
  server_count_ = 0;
}

void BucketTable::grow(size_t entries) {
  size_t capacity = slots_.size() * 2;
  while (entries * 2 > capacity) capacity *= 2;
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  rehash();
}

void BucketTable::rehash() { place_from(0); }

void BucketTable::place_from(size_t first) {
  for (size_t i = first; i < entries_.size(); ++i) {
    size_t slot = hash(entries_[i].key) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<uint32_t>(i);
  }
  indexed_ = entries_.size();
}

void BucketTable::reserve(size_t entries) {
  if (entries > entries_.capacity())
    entries_.reserve(
        std::min(std::max(entries, entries_.capacity() * 2), std::max(max_entries_, entries)));
  if (entries * 2 > slots_.size()) grow(entries);
  if (indexed_ < entries_.size()) index_rest();
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

void BucketTable::truncate(size_t entries) {
  entries_.resize(entries);
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  rehash();
  forget_servers();
  in_order_ = false;
}

void BucketTable::clear() {
  // Slots are written only when entries are placed in them.
  if (indexed_ > 0) std::fill(slots_.begin(), slots_.end(), kEmpty);
  indexed_ = 0;
  entries_.clear();
  forget_servers();
  in_order_ = true;
}

}  // namespace loadcast
