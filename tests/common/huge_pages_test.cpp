// GrowableArray and the huge buffers: values survive every growth (small,
// small to huge, huge to huge by moving pages), copies and moves, and a
// huge buffer starts on a huge page boundary.
#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace loadcast {
namespace {

struct Wide {
  uint64_t key;
  double values[9];
};

bool holds_sequence(const GrowableArray<Wide>& a, size_t n) {
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (a[i].key != i || a[i].values[8] != static_cast<double>(i) / 3) return false;
  return true;
}

TEST(GrowableArray, ValuesSurviveEveryGrowthFromSmallToHuge) {
  GrowableArray<Wide> a;
  // 200,000 values of 80 bytes: 16 MB, past the huge threshold, through
  // every doubling.
  const size_t n = 200000;
  size_t grown = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t before = a.capacity();
    Wide w{i, {}};
    w.values[8] = static_cast<double>(i) / 3;
    a.push_back(w);
    grown += a.capacity() != before;
  }
  EXPECT_GE(grown, 10u);
  EXPECT_GE(a.capacity() * sizeof(Wide), kHugeBufferBytes);
  EXPECT_TRUE(holds_sequence(a, n));

  // A huge buffer grown by a whole block at once keeps what it had.
  GrowableArray<Wide> more;
  more.append(a.begin(), a.end());
  more.append(a.begin(), a.end());
  ASSERT_EQ(more.size(), 2 * n);
  EXPECT_EQ(more[n + 7].key, 7u);
  EXPECT_EQ(more[n - 1].key, n - 1);

  const GrowableArray<Wide> copy = a;
  EXPECT_TRUE(holds_sequence(copy, n));
  GrowableArray<Wide> moved = std::move(a);
  EXPECT_TRUE(holds_sequence(moved, n));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from array is empty

  moved.resize(n + 3);
  EXPECT_EQ(moved[n + 2].key, 0u);
  EXPECT_EQ(moved[n + 2].values[8], 0.0);
  moved.resize(5);
  EXPECT_EQ(moved.size(), 5u);
  EXPECT_EQ(moved[4].key, 4u);
}

TEST(HugeBuffers, StartOnAHugePageAndGrowByMovingTheirPages) {
  if (!kMapsHugeBuffers) GTEST_SKIP() << "buffers come from the heap under AddressSanitizer";
  const size_t bytes = kHugeBufferBytes + 12345;
  auto* p = static_cast<uint64_t*>(map_huge_buffer(bytes));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kHugePageBytes, 0u);
  for (size_t i = 0; i < bytes / sizeof(uint64_t); ++i) p[i] = i * 3;
  auto* q = static_cast<uint64_t*>(grow_huge_buffer(p, bytes, 3 * bytes));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % kHugePageBytes, 0u);
  bool same = true;
  for (size_t i = 0; i < bytes / sizeof(uint64_t); ++i) same = same && q[i] == i * 3;
  EXPECT_TRUE(same);
  q[3 * bytes / sizeof(uint64_t) - 1] = 7;  // the new end is writable
  unmap_huge_buffer(q, 3 * bytes);
}

}  // namespace
}  // namespace loadcast
