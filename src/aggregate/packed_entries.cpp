#include "aggregate/packed_entries.h"

#include <bit>
#include <cstring>

namespace loadcast {

namespace {

// Whether `v` is a whole number from 0 to 65535 (not -0.0): `count` then
// reads back as the same bits.
bool fits_count(double v, uint16_t& count) {
  const bool in_range = v >= 0 && v <= 65535;  // false for NaN
  count = static_cast<uint16_t>(in_range ? v : 0);
  return in_range &&
         std::bit_cast<uint64_t>(static_cast<double>(count)) == std::bit_cast<uint64_t>(v);
}

}  // namespace

void PackedEntries::append(const Entry* first, const Entry* last) {
  for (; first != last; ++first) {
    const Entry& e = *first;
    Slot s;
    s.key = e.key;
    s.bytes = e.sums.sum[1];
    bool fits = fits_count(e.sums.sum[0], s.counts[0]);
    for (int m = 2; m < kNumMeasures; ++m) fits &= fits_count(e.sums.sum[m], s.counts[m - 1]);
    fits &= e.sums.sessions >= 0 && e.sums.sessions <= 65535;
    s.counts[kNumMeasures - 1] = static_cast<uint16_t>(e.sums.sessions);
    if (fits) {
      *slots_.extend(1) = s;
    } else {
      Slot* at = slots_.extend(kWideSlots);
      std::memset(static_cast<void*>(at), 0, kWideSlots * sizeof(Slot));
      std::memcpy(static_cast<void*>(at), &e, sizeof(Entry));
      at->key |= kWide;
    }
    ++entries_;
  }
}

PackedEntries::Entry PackedEntries::whole(size_t at) const {
  Entry e;
  std::memcpy(static_cast<void*>(&e), &slots_[at], sizeof(Entry));
  e.key &= ~kWide;
  return e;
}

PackedEntries::Entry PackedEntries::entry(size_t at) const {
  if (wide(at)) return whole(at);
  const Slot& s = slots_[at];
  Entry e{s.key, BucketSums{}};
  e.sums.sum[0] = s.counts[0];
  e.sums.sum[1] = s.bytes;
  for (int m = 2; m < kNumMeasures; ++m) e.sums.sum[m] = s.counts[m - 1];
  e.sums.sessions = s.counts[kNumMeasures - 1];
  return e;
}

}  // namespace loadcast
