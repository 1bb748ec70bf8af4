// Thrift's compact protocol, the encoding of Parquet's page headers and file
// footer: a writer of the structs loadcast puts down, and a reader of any
// struct into a small tree, bounded so that no input can make it recurse or
// allocate without limit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadcast::parquet {

// The compact protocol's type codes.
enum class ThriftType : uint8_t {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Writes one struct, field by field in increasing id order.
class ThriftWriter {
 public:
  void i32(int16_t id, int32_t value) { integer(id, ThriftType::kI32, value); }
  void i64(int16_t id, int64_t value) { integer(id, ThriftType::kI64, value); }
  void boolean(int16_t id, bool value);
  void binary(int16_t id, std::string_view value);
  // A struct field: its fields follow, then end_struct().
  void begin_struct(int16_t id);
  void end_struct();
  // A list field of `size` elements of `type`, written with the element
  // calls below; a struct element is begin_element() ... end_struct().
  void begin_list(int16_t id, ThriftType type, size_t size);
  void element_i32(int32_t value) { varint(zigzag(value)); }
  void element_binary(std::string_view value);
  void begin_element();
  // A struct element written by a writer of its own (its finish()).
  void element_struct(std::string_view bytes) { out_ += bytes; }
  // Ends the outermost struct; the bytes are complete.
  std::string& finish();

 private:
  static uint64_t zigzag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void varint(uint64_t v);
  void header(int16_t id, ThriftType type);
  void integer(int16_t id, ThriftType type, int64_t value);

  std::string out_;
  std::vector<int16_t> last_ids_{0};
};

struct ThriftField;

// A value read back: an integer (bool, byte, i16, i32, i64), a double, a
// binary, a list (or set), a map (keys and values alternating in `items`)
// or a struct (`fields`).
struct ThriftValue {
  ThriftType type = ThriftType::kStop;
  int64_t integer = 0;
  double real = 0;
  std::string_view binary;  // into the bytes read
  std::vector<ThriftValue> items;
  std::vector<ThriftField> fields;

  // The field `id` of a struct, null when it is absent.
  const ThriftValue* field(int16_t id) const;
};

struct ThriftField {
  int16_t id = 0;
  ThriftValue value;
};

// Reads one struct from the front of `bytes`; nothing when they are not a
// well-formed struct. `used` is set to the bytes it took.
std::optional<ThriftValue> read_thrift_struct(std::string_view bytes, size_t* used = nullptr);

}  // namespace loadcast::parquet
