#include "parquet/file.h"

#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "common/error.h"
#include "common/faults.h"
#include "parquet/thrift.h"

namespace loadcast::parquet {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr int32_t kCodecUncompressed = 0;
constexpr int32_t kCodecZstd = 6;
constexpr int32_t kEncodingPlain = 0;
constexpr int32_t kEncodingRle = 3;
constexpr int32_t kDataPage = 0;
constexpr int32_t kRequired = 0;
constexpr int32_t kConvertedUtf8 = 0;
constexpr int32_t kConvertedDate = 6;
// Fast, and within a few percent of the default level's size on these tables.
constexpr int kZstdLevel = 1;
// A page or footer larger than this is not one loadcast wrote or can hold.
constexpr uint64_t kMaxPieceBytes = uint64_t{1} << 30;

std::string type_name(int64_t type) {
  switch (type) {
    case 0:
      return "BOOLEAN";
    case 1:
      return "INT32";
    case 2:
      return "INT64";
    case 3:
      return "INT96";
    case 4:
      return "FLOAT";
    case 5:
      return "DOUBLE";
    case 6:
      return "BYTE_ARRAY";
    case 7:
      return "FIXED_LEN_BYTE_ARRAY";
    default:
      return "type " + std::to_string(type);
  }
}

size_t fixed_width(PhysicalType type) {
  switch (type) {
    case PhysicalType::kInt32:
      return 4;
    case PhysicalType::kByteArray:
      return 0;
    default:
      return 8;
  }
}

}  // namespace

void ColumnValues::put_fixed(const void* v, size_t size) {
  bytes_.append(static_cast<const char*>(v), size);
  ++count_;
}

void ColumnValues::put_text(std::string_view text) {
  const auto size = static_cast<uint32_t>(text.size());
  bytes_.append(reinterpret_cast<const char*>(&size), sizeof size);
  bytes_ += text;
  ++count_;
}

void ColumnValues::append(const ColumnValues& other) {
  bytes_ += other.bytes_;
  count_ += other.count_;
}

void ColumnValues::clear() {
  bytes_.clear();
  count_ = 0;
}

FileWriter::FileWriter(fs::path path, std::vector<Column> columns)
    : path_(std::move(path)), columns_(std::move(columns)), columns_values_(columns_.size()) {
  if (columns_.empty()) fail_internal("parquet::FileWriter: no columns");
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) fail_data("cannot write '" + path_.string() + "': " + std::strerror(errno));
  write(kMagic);
}

FileWriter::~FileWriter() {
  if (file_) std::fclose(file_);
}

void FileWriter::write(std::string_view bytes) {
  if (write_checked(file_, bytes.data(), bytes.size(), path_.string()) != bytes.size())
    fail_data("cannot write '" + path_.string() + "': " + std::strerror(errno));
  offset_ += bytes.size();
}

void FileWriter::append(std::span<const ColumnValues> columns) {
  if (columns.size() != columns_.size()) fail_internal("parquet::FileWriter: column count");
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].count() != columns.front().count())
      fail_internal("parquet::FileWriter: columns of different lengths");
    columns_values_[c].append(columns[c]);
    buffered_ += columns[c].bytes().size();
  }
}

void FileWriter::end_row_group() {
  const int64_t rows = columns_values_.front().count();
  if (rows == 0) return;
  ThriftWriter group;
  group.begin_list(1, ThriftType::kStruct, columns_.size());
  const uint64_t group_offset = offset_;
  uint64_t uncompressed_total = 0;
  for (size_t c = 0; c < columns_.size(); ++c) {
    const std::string& plain = columns_values_[c].bytes();
    if (plain.size() > kMaxPieceBytes) fail_internal("parquet::FileWriter: page too large");
    page_.resize(ZSTD_compressBound(plain.size()));
    const size_t packed =
        ZSTD_compress(page_.data(), page_.size(), plain.data(), plain.size(), kZstdLevel);
    if (ZSTD_isError(packed)) fail_internal(std::string("zstd: ") + ZSTD_getErrorName(packed));
    ThriftWriter header;
    header.i32(1, kDataPage);
    header.i32(2, static_cast<int32_t>(plain.size()));
    header.i32(3, static_cast<int32_t>(packed));
    header.begin_struct(5);
    header.i32(1, static_cast<int32_t>(rows));
    header.i32(2, kEncodingPlain);
    header.i32(3, kEncodingRle);
    header.i32(4, kEncodingRle);
    header.end_struct();
    const std::string& header_bytes = header.finish();
    const uint64_t chunk_offset = offset_;
    write(header_bytes);
    write(std::string_view(page_.data(), packed));
    const uint64_t compressed = header_bytes.size() + packed;
    const uint64_t uncompressed = header_bytes.size() + plain.size();
    uncompressed_total += uncompressed;

    group.begin_element();
    group.i64(2, static_cast<int64_t>(chunk_offset));
    group.begin_struct(3);
    group.i32(1, static_cast<int32_t>(columns_[c].type));
    group.begin_list(2, ThriftType::kI32, 1);
    group.element_i32(kEncodingPlain);
    group.begin_list(3, ThriftType::kBinary, 1);
    group.element_binary(columns_[c].name);
    group.i32(4, kCodecZstd);
    group.i64(5, rows);
    group.i64(6, static_cast<int64_t>(uncompressed));
    group.i64(7, static_cast<int64_t>(compressed));
    group.i64(9, static_cast<int64_t>(chunk_offset));
    group.end_struct();
    group.end_struct();
    columns_values_[c].clear();
  }
  group.i64(2, static_cast<int64_t>(uncompressed_total));
  group.i64(3, rows);
  group.i64(5, static_cast<int64_t>(group_offset));
  group.i64(6, static_cast<int64_t>(offset_ - group_offset));
  group.i32(7, row_group_count_);  // an i16 in the format; the compact encoding is the same
  row_groups_ += group.finish();
  ++row_group_count_;
  rows_ += rows;
  buffered_ = 0;
}

void FileWriter::close() {
  end_row_group();
  ThriftWriter footer;
  footer.i32(1, 1);
  footer.begin_list(2, ThriftType::kStruct, columns_.size() + 1);
  footer.begin_element();
  footer.binary(4, "schema");
  footer.i32(5, static_cast<int32_t>(columns_.size()));
  footer.end_struct();
  for (const Column& c : columns_) {
    footer.begin_element();
    footer.i32(1, static_cast<int32_t>(c.type));
    footer.i32(3, kRequired);
    footer.binary(4, c.name);
    if (c.logical == LogicalType::kString) footer.i32(6, kConvertedUtf8);
    if (c.logical == LogicalType::kDate) footer.i32(6, kConvertedDate);
    if (c.logical != LogicalType::kNone) {
      footer.begin_struct(10);
      switch (c.logical) {
        case LogicalType::kString:
          footer.begin_struct(1);
          break;
        case LogicalType::kDate:
          footer.begin_struct(6);
          break;
        default:
          footer.begin_struct(8);
          footer.boolean(1, false);  // isAdjustedToUTC: the times are UTC wall-clock hours
          footer.begin_struct(2);
          footer.begin_struct(2);  // MICROS
          footer.end_struct();
          footer.end_struct();
          break;
      }
      footer.end_struct();
      footer.end_struct();
    }
    footer.end_struct();
  }
  footer.i64(3, rows_);
  footer.begin_list(4, ThriftType::kStruct, static_cast<size_t>(row_group_count_));
  footer.element_struct(row_groups_);
  footer.binary(6, "loadcast version " LOADCAST_VERSION);
  const std::string& bytes = footer.finish();
  write(bytes);
  const auto length = static_cast<uint32_t>(bytes.size());
  write(std::string_view(reinterpret_cast<const char*>(&length), sizeof length));
  write(kMagic);
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    fail_data("cannot write '" + path_.string() + "': " + std::strerror(errno));
  std::fclose(file_);
  file_ = nullptr;
}

void FileReader::fail(const std::string& why) const {
  fail_data("'" + path_.string() + "' is not a Parquet table loadcast reads: " + why);
}

namespace {

std::string read_at(std::ifstream& in, uint64_t offset, uint64_t size) {
  std::string bytes(size, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) bytes.clear();
  return bytes;
}

int64_t integer_field(const ThriftValue& s, int16_t id, int64_t missing = -1) {
  const ThriftValue* f = s.field(id);
  return f ? f->integer : missing;
}

}  // namespace

FileReader::FileReader(fs::path path) : path_(std::move(path)) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) fail_data("cannot read '" + path_.string() + "'");
  std::error_code ec;
  file_size_ = fs::file_size(path_, ec);
  if (ec) fail_data("cannot read '" + path_.string() + "': " + ec.message());
  if (file_size_ < 12) fail("it is too short");
  const std::string tail = read_at(in, file_size_ - 8, 8);
  if (tail.size() != 8 || tail.substr(4) != kMagic || read_at(in, 0, 4) != kMagic)
    fail("it does not begin and end with PAR1");
  uint32_t length = 0;
  std::memcpy(&length, tail.data(), 4);
  if (length > file_size_ - 12 || length > kMaxPieceBytes) fail("its footer length is wrong");
  const std::string footer = read_at(in, file_size_ - 8 - length, length);
  const auto meta = read_thrift_struct(footer);
  if (footer.size() != length || !meta) fail("its footer cannot be read");

  const ThriftValue* schema = meta->field(2);
  if (!schema || schema->type != ThriftType::kList || schema->items.empty())
    fail("its footer has no schema");
  const ThriftValue& root = schema->items.front();
  if (integer_field(root, 5) != static_cast<int64_t>(schema->items.size()) - 1)
    fail("its schema is not one flat table");
  for (size_t i = 1; i < schema->items.size(); ++i) {
    const ThriftValue& e = schema->items[i];
    const ThriftValue* name = e.field(4);
    if (!name || name->type != ThriftType::kBinary || e.field(5)) fail("its schema is not flat");
    Column c;
    c.name = std::string(name->binary);
    const int64_t type = integer_field(e, 1);
    if (type != 1 && type != 2 && type != 5 && type != 6)
      fail("column '" + c.name + "' is of type " + type_name(type));
    if (integer_field(e, 3, kRequired) != kRequired)
      fail("column '" + c.name + "' may hold nulls (loadcast's tables never do)");
    c.type = static_cast<PhysicalType>(type);
    if (const ThriftValue* logical = e.field(10); logical && !logical->fields.empty()) {
      const int16_t kind = logical->fields.front().id;
      c.logical = kind == 1   ? LogicalType::kString
                  : kind == 6 ? LogicalType::kDate
                  : kind == 8 ? LogicalType::kTimestampMicros
                              : LogicalType::kNone;
      if (kind == 8) {
        const ThriftValue* unit = logical->fields.front().value.field(2);
        if (!unit || unit->fields.empty() || unit->fields.front().id != 2)
          fail("column '" + c.name + "' holds timestamps in a unit other than microseconds");
      }
    } else if (integer_field(e, 6) == kConvertedUtf8) {
      c.logical = LogicalType::kString;
    } else if (integer_field(e, 6) == kConvertedDate) {
      c.logical = LogicalType::kDate;
    }
    columns_.push_back(std::move(c));
  }

  if (columns_.empty()) fail("it has no columns");
  const ThriftValue* groups = meta->field(4);
  if (!groups || groups->type != ThriftType::kList) fail("its footer has no row groups");
  for (const ThriftValue& g : groups->items) {
    Group group;
    group.rows = integer_field(g, 3);
    const ThriftValue* chunks = g.field(1);
    if (group.rows < 0 || !chunks || chunks->items.size() != columns_.size())
      fail("a row group does not hold every column");
    for (size_t c = 0; c < columns_.size(); ++c) {
      const ThriftValue* m = chunks->items[c].field(3);
      if (!m) fail("a column chunk has no metadata");
      Chunk chunk;
      chunk.codec = static_cast<int32_t>(integer_field(*m, 4));
      chunk.values = integer_field(*m, 5);
      const int64_t offset = integer_field(*m, 9);
      const int64_t bytes = integer_field(*m, 7);
      if (integer_field(*m, 1) != static_cast<int64_t>(columns_[c].type))
        fail("column '" + columns_[c].name + "' has a chunk of another type");
      if (m->field(11)) fail("column '" + columns_[c].name + "' is dictionary-encoded");
      if (chunk.codec != kCodecUncompressed && chunk.codec != kCodecZstd)
        fail("column '" + columns_[c].name + "' is compressed with codec " +
             std::to_string(chunk.codec) + " (loadcast reads zstd and uncompressed)");
      if (chunk.values != group.rows || offset < 4 || bytes < 0 ||
          static_cast<uint64_t>(offset) + static_cast<uint64_t>(bytes) > file_size_ - 8 - length)
        fail("column '" + columns_[c].name + "' has a chunk outside the file");
      chunk.offset = static_cast<uint64_t>(offset);
      chunk.bytes = static_cast<uint64_t>(bytes);
      group.bytes += chunk.bytes;
      group.chunks.push_back(chunk);
    }
    groups_.push_back(std::move(group));
  }
}

int FileReader::find(std::string_view name) const {
  for (size_t c = 0; c < columns_.size(); ++c)
    if (columns_[c].name == name) return static_cast<int>(c);
  return -1;
}

ColumnData FileReader::read(size_t group, int column) const {
  const Chunk& chunk = groups_[group].chunks[static_cast<size_t>(column)];
  const Column& c = columns_[static_cast<size_t>(column)];
  std::ifstream in(path_, std::ios::binary);
  const std::string raw = read_at(in, chunk.offset, chunk.bytes);
  if (raw.size() != chunk.bytes) fail_data("cannot read '" + path_.string() + "'");
  ColumnData data;
  data.type_ = c.type;
  data.count_ = chunk.values;
  const std::string where = "column '" + c.name + "'";
  size_t at = 0;
  int64_t values = 0;
  while (values < chunk.values) {
    size_t used = 0;
    const auto header = read_thrift_struct(std::string_view(raw).substr(at), &used);
    if (!header) fail(where + " has a page header that cannot be read");
    at += used;
    if (integer_field(*header, 1) != kDataPage)
      fail(where + " has a page of type " + std::to_string(integer_field(*header, 1)) +
           " (loadcast reads plain data pages)");
    const int64_t plain_size = integer_field(*header, 2);
    const int64_t packed_size = integer_field(*header, 3);
    const ThriftValue* page = header->field(5);
    if (!page || plain_size < 0 || packed_size < 0 ||
        static_cast<uint64_t>(packed_size) > raw.size() - at ||
        static_cast<uint64_t>(plain_size) > kMaxPieceBytes)
      fail(where + " has a page that does not fit its chunk");
    if (integer_field(*page, 2) != kEncodingPlain)
      fail(where + " has a page of encoding " + std::to_string(integer_field(*page, 2)) +
           " (loadcast reads PLAIN)");
    const int64_t count = integer_field(*page, 1);
    if (count < 0 || count > chunk.values - values) fail(where + " has more values than rows");
    const std::string_view packed(raw.data() + at, static_cast<size_t>(packed_size));
    at += static_cast<size_t>(packed_size);
    const size_t start = data.bytes_.size();
    if (chunk.codec == kCodecZstd) {
      // The frame says its size: a page cannot make the reader allocate
      // more than it holds.
      if (ZSTD_getFrameContentSize(packed.data(), packed.size()) !=
          static_cast<unsigned long long>(plain_size))
        fail(where + " has a page whose sizes disagree");
      data.bytes_.resize(start + static_cast<size_t>(plain_size));
      const size_t got =
          ZSTD_decompress(data.bytes_.data() + start, static_cast<size_t>(plain_size),
                          packed.data(), packed.size());
      if (ZSTD_isError(got) || got != static_cast<size_t>(plain_size))
        fail(where + " has a page that does not decompress");
    } else {
      if (plain_size != packed_size) fail(where + " has a page of two sizes");
      data.bytes_ += packed;
    }
    // Walk the values of this page: fixed widths must fill it exactly, and
    // each text's length must lie inside it.
    const size_t width = fixed_width(c.type);
    if (width != 0) {
      if (static_cast<uint64_t>(plain_size) != static_cast<uint64_t>(count) * width)
        fail(where + " has a page whose size is not its values'");
    } else {
      size_t v = start;
      for (int64_t k = 0; k < count; ++k) {
        uint32_t length = 0;
        if (data.bytes_.size() - v < 4) fail(where + " has a text cut short");
        std::memcpy(&length, data.bytes_.data() + v, 4);
        if (data.bytes_.size() - v - 4 < length) fail(where + " has a text cut short");
        data.text_begin_.push_back(v);
        v += 4 + length;
      }
      if (v != data.bytes_.size()) fail(where + " has bytes after its values");
    }
    values += count;
  }
  if (c.type == PhysicalType::kByteArray) data.text_begin_.push_back(data.bytes_.size());
  return data;
}

}  // namespace loadcast::parquet
