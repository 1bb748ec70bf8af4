// Parquet files, written and read by loadcast itself: flat tables of
// required (never null) columns, each row group's column chunk one data page
// of PLAIN values compressed with zstd, and a footer with the schema's logical
// types, so that any Parquet reader (DuckDB, Spark, pandas, hyparquet) takes
// them. The reader takes these files and others of the same shape; a file
// with another encoding, codec or nullable columns is a clear data error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace loadcast::parquet {

// The physical types loadcast uses (Parquet's own codes).
enum class PhysicalType : int32_t { kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6 };
// What the values mean: text, a timestamp in microseconds since the epoch
// (not adjusted to a time zone: the tables' times are UTC), days since the
// epoch.
enum class LogicalType { kNone, kString, kTimestampMicros, kDate };

struct Column {
  std::string name;
  PhysicalType type = PhysicalType::kInt64;
  LogicalType logical = LogicalType::kNone;
};

// The values of one column, PLAIN-encoded as they go into a page.
class ColumnValues {
 public:
  void put_int32(int32_t v) { put_fixed(&v, sizeof v); }
  void put_int64(int64_t v) { put_fixed(&v, sizeof v); }
  void put_double(double v) { put_fixed(&v, sizeof v); }
  void put_text(std::string_view text);
  void append(const ColumnValues& other);
  void clear();
  const std::string& bytes() const { return bytes_; }
  int64_t count() const { return count_; }

 private:
  void put_fixed(const void* v, size_t size);
  std::string bytes_;
  int64_t count_ = 0;
};

// Writes one file: rows are buffered per column and go down as a row group
// at end_row_group() and close(). Throws a data error naming the file when it
// cannot be written (the "write" failure point included).
class FileWriter {
 public:
  FileWriter(std::filesystem::path path, std::vector<Column> columns);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Adds rows: one ColumnValues per column, all of the same count.
  void append(std::span<const ColumnValues> columns);
  size_t buffered_bytes() const { return buffered_; }
  int64_t buffered_rows() const { return columns_values_.front().count(); }
  void end_row_group();
  // Ends the last row group, writes the footer and syncs the file.
  void close();

 private:
  void write(std::string_view bytes);

  std::filesystem::path path_;
  std::vector<Column> columns_;
  std::vector<ColumnValues> columns_values_;
  size_t buffered_ = 0;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  int64_t rows_ = 0;
  std::string row_groups_;  // the footer's row group structs, written as they end
  int row_group_count_ = 0;
  std::string page_;  // reused compression buffer
};

// One column chunk read back: its values, decoded from PLAIN.
class ColumnData {
 public:
  PhysicalType type() const { return type_; }
  int64_t size() const { return count_; }
  int32_t int32(size_t i) const { return fixed<int32_t>(i); }
  int64_t int64(size_t i) const { return fixed<int64_t>(i); }
  double real(size_t i) const { return fixed<double>(i); }
  std::string_view text(size_t i) const {
    return std::string_view(bytes_).substr(text_begin_[i] + 4,
                                           text_begin_[i + 1] - text_begin_[i] - 4);
  }

 private:
  friend class FileReader;
  template <typename T>
  T fixed(size_t i) const {
    T v;
    __builtin_memcpy(&v, bytes_.data() + i * sizeof(T), sizeof(T));
    return v;
  }
  PhysicalType type_ = PhysicalType::kInt64;
  int64_t count_ = 0;
  std::string bytes_;
  std::vector<uint64_t> text_begin_;  // where each value's length begins, and the end
};

// Reads a file's footer at construction; throws a data error naming the file
// and what is wrong when it is not a Parquet file of the shape above.
class FileReader {
 public:
  explicit FileReader(std::filesystem::path path);

  const std::filesystem::path& path() const { return path_; }
  const std::vector<Column>& columns() const { return columns_; }
  // The column named `name`, -1 when there is none.
  int find(std::string_view name) const;
  size_t row_groups() const { return groups_.size(); }
  int64_t rows(size_t group) const { return groups_[group].rows; }
  // The bytes of a row group's chunks in the file (for cutting a table into
  // shares by size).
  uint64_t group_bytes(size_t group) const { return groups_[group].bytes; }
  // Where the row group's first chunk begins in the file.
  uint64_t group_offset(size_t group) const { return groups_[group].chunks.front().offset; }
  ColumnData read(size_t group, int column) const;

 private:
  struct Chunk {
    uint64_t offset = 0;
    uint64_t bytes = 0;
    int64_t values = 0;
    int32_t codec = 0;
  };
  struct Group {
    int64_t rows = 0;
    uint64_t bytes = 0;
    std::vector<Chunk> chunks;
  };
  [[noreturn]] void fail(const std::string& why) const;

  std::filesystem::path path_;
  uint64_t file_size_ = 0;
  std::vector<Column> columns_;
  std::vector<Group> groups_;
};

}  // namespace loadcast::parquet
