#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>

namespace loadcast {

namespace {

size_t round_up(size_t bytes) { return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }

}  // namespace

void* map_huge_buffer(size_t bytes) {
  // Map a huge page more than needed and cut the ends off, so that the
  // buffer starts on a huge page boundary.
  const size_t length = round_up(bytes);
  const size_t padded = length + kHugePageBytes;
  void* mapped =
      ::mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (base + kHugePageBytes - 1) & ~uintptr_t{kHugePageBytes - 1};
  if (aligned > base) ::munmap(mapped, aligned - base);
  const uintptr_t end = aligned + length;
  if (base + padded > end) ::munmap(reinterpret_cast<void*>(end), base + padded - end);
  // Advice only: without huge pages the buffer still works, on small ones.
  ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void unmap_huge_buffer(void* p, size_t bytes) noexcept { ::munmap(p, round_up(bytes)); }

void* grow_huge_buffer(void* p, size_t old_bytes, size_t new_bytes) {
  void* grown = map_huge_buffer(new_bytes);
  // The old pages replace the start of the new mapping; where they cannot
  // be moved (a buffer made of several mappings), they are copied.
  if (::mremap(p, round_up(old_bytes), round_up(old_bytes), MREMAP_MAYMOVE | MREMAP_FIXED, grown) ==
      MAP_FAILED) {
    std::memcpy(grown, p, old_bytes);
    unmap_huge_buffer(p, old_bytes);
  }
  return grown;
}

}  // namespace loadcast
