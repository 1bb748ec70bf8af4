// Large buffers on transparent huge pages. The five-minute aggregate and the
// features stage touch hundreds of MiB that are new to the process; on 4 KiB
// pages every page is a fault and a TLB entry of its own, which cost the
// etl about a third of its time. A buffer of kHugeBufferBytes or more is
// mapped on its own, 2 MiB aligned, and advised for huge pages (the kernel
// gives them to advised mappings in its usual "madvise" mode); smaller ones
// come from the heap as usual.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace loadcast {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;
// From here on a buffer gets a mapping of its own: at most half of it is
// rounding, and only in pages nobody touches.
inline constexpr size_t kHugeBufferBytes = size_t{4} << 20;

// `bytes` (at least kHugeBufferBytes) in a mapping of their own, advised for
// huge pages; throws std::bad_alloc when the system has no room.
void* map_huge_buffer(size_t bytes);
// REQUIRES: `p` and `bytes` as map_huge_buffer gave and took them.
void unmap_huge_buffer(void* p, size_t bytes) noexcept;

// Whether huge buffers are mapped here: not under AddressSanitizer, whose
// checks need heap memory.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kMapsHugeBuffers = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kMapsHugeBuffers = false;
#else
inline constexpr bool kMapsHugeBuffers = true;
#endif
#else
inline constexpr bool kMapsHugeBuffers = true;
#endif

// A standard allocator that maps huge buffers and takes small ones from the
// heap. Stateless: any two compare equal.
template <class T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding converts

  T* allocate(size_t n) {
    if (huge(n)) return static_cast<T*>(map_huge_buffer(n * sizeof(T)));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (huge(n)) return unmap_huge_buffer(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static bool huge(size_t n) { return kMapsHugeBuffers && n >= kHugeBufferBytes / sizeof(T); }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace loadcast
