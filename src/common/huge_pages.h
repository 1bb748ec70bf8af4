// Large buffers on transparent huge pages. The five-minute aggregate and the
// features stage touch hundreds of MiB that are new to the process; on 4 KiB
// pages every page is a fault and a TLB entry of its own, which cost the
// etl about a third of its time. A buffer of kHugeBufferBytes or more is
// mapped on its own, 2 MiB aligned, and advised for huge pages (the kernel
// gives them to advised mappings in its usual "madvise" mode); smaller ones
// come from the heap as usual.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
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

  // Whether `n` values get a mapping of their own.
  static bool huge(size_t n) { return kMapsHugeBuffers && n >= kHugeBufferBytes / sizeof(T); }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// `p` (a map_huge_buffer of `old_bytes`) made `new_bytes` long: its pages
// are moved, not copied, into a new mapping (copied only where the system
// cannot move them). REQUIRES: new_bytes >= old_bytes.
void* grow_huge_buffer(void* p, size_t old_bytes, size_t new_bytes);

// A vector of trivially copyable values for the aggregate's millions of
// entries. A huge buffer grows by moving its pages: the old contents are
// not copied and no page is touched twice, where std::vector would copy
// everything into fresh memory at each doubling.
template <class T>
class GrowableArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  GrowableArray() = default;
  ~GrowableArray() {
    if (data_ != nullptr) Allocator().deallocate(data_, capacity_);
  }
  GrowableArray(const GrowableArray& other) { *this = other; }
  GrowableArray& operator=(const GrowableArray& other) {
    if (this != &other) {
      clear();
      append(other.begin(), other.end());
    }
    return *this;
  }
  GrowableArray(GrowableArray&& other) noexcept { swap(other); }
  GrowableArray& operator=(GrowableArray&& other) noexcept {
    GrowableArray(std::move(other)).swap(*this);
    return *this;
  }
  void swap(GrowableArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Out of line: it runs only when the array grows, and GCC 12 misjudges
  // the buffer's size where it is inlined into a copy (-Wstringop-overflow).
  [[gnu::noinline]] void reserve(size_t n) {
    if (n <= capacity_) return;
    T* grown;
    if (Allocator::huge(capacity_) && Allocator::huge(n)) {
      grown = static_cast<T*>(grow_huge_buffer(data_, capacity_ * sizeof(T), n * sizeof(T)));
    } else {
      grown = Allocator().allocate(n);
      if (size_ > 0) std::memcpy(static_cast<void*>(grown), data_, size_ * sizeof(T));
      if (data_ != nullptr) Allocator().deallocate(data_, capacity_);
    }
    data_ = grown;
    capacity_ = n;
  }
  void push_back(const T& value) {
    if (size_ == capacity_) reserve(std::max<size_t>(16, capacity_ * 2));
    data_[size_++] = value;
  }
  void append(const T* first, const T* last) {
    const auto n = static_cast<size_t>(last - first);
    if (size_ + n > capacity_) reserve(std::max(size_ + n, capacity_ * 2));
    if (n > 0) std::memcpy(static_cast<void*>(data_ + size_), first, n * sizeof(T));
    size_ += n;
  }
  // Makes room for `n` more values and returns where they go, uninitialized.
  T* extend(size_t n) {
    if (size_ + n > capacity_) reserve(std::max(size_ + n, capacity_ * 2));
    size_ += n;
    return data_ + size_ - n;
  }
  // New values are value-initialized.
  void resize(size_t n) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data_[i] = T{};
    size_ = n;
  }
  void clear() { size_ = 0; }

 private:
  using Allocator = HugePageAllocator<T>;

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace loadcast
