// PackedEntries: every entry reads back with the bits it was appended with,
// whether its sums fit two-byte counts or it is kept whole.
#include "aggregate/packed_entries.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace loadcast {
namespace {

using Entry = BucketTable::Entry;

void expect_same_bits(const BucketSums& actual, const BucketSums& expected) {
  EXPECT_EQ(actual.sessions, expected.sessions);
  EXPECT_EQ(std::memcmp(actual.sum.data(), expected.sum.data(), sizeof(actual.sum)), 0);
}

TEST(PackedEntries, EveryEntryReadsBackBitForBitInOrder) {
  // Sums as the chunks give them (whole loads, megabytes with fractions),
  // and every kind that cannot be a count.
  const double odd[] = {-0.0,
                        -1.0,
                        0.5,
                        65535.0,
                        65536.0,
                        1e300,
                        std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()};
  std::mt19937_64 random(11);
  std::vector<Entry> entries;
  for (int i = 0; i < 5000; ++i) {
    Entry e{pack_bucket_key(kDictionaryServerBit | static_cast<ServerKey>(random() % 40),
                            static_cast<int64_t>(random() % 9000)),
            BucketSums{}};
    for (int m = 0; m < kNumMeasures; ++m)
      e.sums.sum[static_cast<size_t>(m)] = static_cast<double>(random() % 3000);
    e.sums.sum[1] = static_cast<double>(random() % 100000) / 100.0;
    e.sums.sessions = static_cast<int64_t>(random() % 50);
    if (i % 13 == 0) e.sums.sum[random() % kNumMeasures] = odd[random() % std::size(odd)];
    if (i % 101 == 0) e.sums.sessions = 70000;
    entries.push_back(e);
  }
  PackedEntries packed;
  for (size_t at = 0; at < entries.size();) {  // in chunks of any size
    const size_t n = std::min<size_t>(entries.size() - at, random() % 300);
    packed.append(entries.data() + at, entries.data() + at + n);
    at += n;
  }
  ASSERT_EQ(packed.size(), entries.size());
  size_t i = 0;
  size_t wide = 0;
  for (size_t at = 0; at < packed.end(); at = packed.next(at), ++i) {
    ASSERT_LT(i, entries.size());
    EXPECT_EQ(packed.key(at), entries[i].key);
    const Entry e = packed.entry(at);
    EXPECT_EQ(e.key, entries[i].key);
    expect_same_bits(e.sums, entries[i].sums);
    // Added into running sums, as the features stage adds them.
    BucketSums running{}, expected{};
    running.sum[3] = expected.sum[3] = 0.1;
    packed.add_to(at, running);
    expected.add(entries[i].sums);
    expect_same_bits(running, expected);
    wide += packed.next(at) - at > 1;
  }
  EXPECT_EQ(i, entries.size());
  // The usual entry takes one 32-byte slot; the others are kept whole.
  EXPECT_GT(wide, 0u);
  EXPECT_LT(wide, entries.size() / 8);
  EXPECT_EQ(packed.used_bytes(), 32 * (entries.size() - wide) + 96 * wide);
}

}  // namespace
}  // namespace loadcast
