// The byte form of what ranks exchange: fixed-width little-endian integers
// and doubles, and length-prefixed strings, written into and read from the
// Bytes of the Communicator. Every rank runs the same build, so no versioning.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/error.h"
#include "dist/communicator.h"

namespace loadcast::dist {

class ByteWriter {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T> ByteWriter& put(T value) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  ByteWriter& put(std::string_view text) {
    put<std::uint32_t>(static_cast<std::uint32_t>(text.size()));
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    return *this;
  }
  Bytes take() { return std::move(bytes_); }

 private:
  Bytes bytes_;
};

// Reads what a ByteWriter wrote, in the same order; running past the end is
// a bug in the sender or receiver, not a data problem.
class ByteReader {
 public:
  explicit ByteReader(const Bytes& bytes) : bytes_(bytes) {}

  template <typename T>
  requires std::is_arithmetic_v<T> T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string get_string() {
    const auto n = get<std::uint32_t>();
    need(n);
    std::string text(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return text;
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  void need(std::size_t n) const {
    if (bytes_.size() - pos_ < n) fail_internal("dist: truncated message");
  }

  const Bytes& bytes_;
  std::size_t pos_ = 0;
};

}  // namespace loadcast::dist
