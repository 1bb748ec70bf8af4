#include "parquet/thrift.h"

#include <cstring>

namespace loadcast::parquet {

void ThriftWriter::varint(uint64_t v) {
  while (v >= 0x80) {
    out_ += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out_ += static_cast<char>(v);
}

void ThriftWriter::header(int16_t id, ThriftType type) {
  const int delta = id - last_ids_.back();
  if (delta > 0 && delta <= 15) {
    out_ += static_cast<char>((delta << 4) | static_cast<int>(type));
  } else {
    out_ += static_cast<char>(type);
    varint(zigzag(id));
  }
  last_ids_.back() = id;
}

void ThriftWriter::integer(int16_t id, ThriftType type, int64_t value) {
  header(id, type);
  varint(zigzag(value));
}

void ThriftWriter::boolean(int16_t id, bool value) {
  header(id, value ? ThriftType::kTrue : ThriftType::kFalse);
}

void ThriftWriter::binary(int16_t id, std::string_view value) {
  header(id, ThriftType::kBinary);
  element_binary(value);
}

void ThriftWriter::element_binary(std::string_view value) {
  varint(value.size());
  out_ += value;
}

void ThriftWriter::begin_struct(int16_t id) {
  header(id, ThriftType::kStruct);
  last_ids_.push_back(0);
}

void ThriftWriter::begin_element() { last_ids_.push_back(0); }

void ThriftWriter::end_struct() {
  out_ += '\0';
  last_ids_.pop_back();
}

void ThriftWriter::begin_list(int16_t id, ThriftType type, size_t size) {
  header(id, ThriftType::kList);
  if (size < 15) {
    out_ += static_cast<char>((size << 4) | static_cast<size_t>(type));
  } else {
    out_ += static_cast<char>(0xf0 | static_cast<int>(type));
    varint(size);
  }
}

std::string& ThriftWriter::finish() {
  out_ += '\0';
  return out_;
}

const ThriftValue* ThriftValue::field(int16_t id) const {
  for (const ThriftField& f : fields)
    if (f.id == id) return &f.value;
  return nullptr;
}

namespace {

// Deeper nesting than Parquet's own (four levels) is not a footer.
constexpr int kMaxDepth = 32;

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  size_t at() const { return at_; }

  bool read_struct(ThriftValue& out, int depth) {
    if (depth > kMaxDepth) return false;
    out.type = ThriftType::kStruct;
    int16_t last = 0;
    for (;;) {
      uint8_t byte = 0;
      if (!next(byte)) return false;
      if (byte == 0) return true;
      const auto type = static_cast<ThriftType>(byte & 0x0f);
      int64_t id = last + (byte >> 4);
      if ((byte >> 4) == 0) {
        uint64_t raw = 0;
        if (!varint(raw)) return false;
        id = unzigzag(raw);
      }
      if (id < INT16_MIN || id > INT16_MAX) return false;
      last = static_cast<int16_t>(id);
      ThriftValue value;
      if (type == ThriftType::kTrue || type == ThriftType::kFalse) {
        value.type = type;
        value.integer = type == ThriftType::kTrue;
      } else if (!read_value(type, value, depth + 1)) {
        return false;
      }
      out.fields.push_back(ThriftField{last, std::move(value)});
    }
  }

 private:
  static int64_t unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  bool next(uint8_t& byte) {
    if (at_ >= bytes_.size()) return false;
    byte = static_cast<uint8_t>(bytes_[at_++]);
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = 0;
      if (!next(byte)) return false;
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  // A count of elements, each of which takes at least one byte.
  bool count(uint64_t& n) { return varint(n) && n <= bytes_.size() - at_; }

  bool read_value(ThriftType type, ThriftValue& out, int depth) {
    if (depth > kMaxDepth) return false;
    out.type = type;
    uint64_t raw = 0;
    switch (type) {
      case ThriftType::kTrue:
      case ThriftType::kFalse:
      case ThriftType::kByte: {
        uint8_t byte = 0;
        if (!next(byte)) return false;
        out.integer = type == ThriftType::kByte ? static_cast<int8_t>(byte) : byte == 1;
        return true;
      }
      case ThriftType::kI16:
      case ThriftType::kI32:
      case ThriftType::kI64:
        if (!varint(raw)) return false;
        out.integer = unzigzag(raw);
        return true;
      case ThriftType::kDouble:
        if (bytes_.size() - at_ < 8) return false;
        std::memcpy(&out.real, bytes_.data() + at_, 8);
        at_ += 8;
        return true;
      case ThriftType::kBinary:
        if (!varint(raw) || raw > bytes_.size() - at_) return false;
        out.binary = bytes_.substr(at_, raw);
        at_ += raw;
        return true;
      case ThriftType::kList:
      case ThriftType::kSet: {
        uint8_t byte = 0;
        if (!next(byte)) return false;
        uint64_t n = byte >> 4;
        if (n == 15 && !count(n)) return false;
        if (n > bytes_.size() - at_) return false;
        const auto element = static_cast<ThriftType>(byte & 0x0f);
        out.items.resize(n);
        for (auto& item : out.items)
          if (!read_value(element, item, depth + 1)) return false;
        return true;
      }
      case ThriftType::kMap: {
        uint64_t n = 0;
        if (!count(n)) return false;
        if (n == 0) return true;
        uint8_t kinds = 0;
        if (!next(kinds)) return false;
        out.items.resize(2 * n);
        for (size_t i = 0; i < out.items.size(); ++i) {
          const auto kind = static_cast<ThriftType>(i % 2 == 0 ? kinds >> 4 : kinds & 0x0f);
          if (!read_value(kind, out.items[i], depth + 1)) return false;
        }
        return true;
      }
      case ThriftType::kStruct:
        return read_struct(out, depth);
      default:
        return false;
    }
  }

  std::string_view bytes_;
  size_t at_ = 0;
};

}  // namespace

std::optional<ThriftValue> read_thrift_struct(std::string_view bytes, size_t* used) {
  Reader reader(bytes);
  ThriftValue value;
  if (!reader.read_struct(value, 0)) return std::nullopt;
  if (used) *used = reader.at();
  return value;
}

}  // namespace loadcast::parquet
