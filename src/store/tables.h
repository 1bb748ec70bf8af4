// The tables of docs/outputs.md in month folders (`features/2016/06/
// part-00000.csv` or `.parquet`): the feature table and the hourly/daily
// stores, written as CSV with shortest round-trip numbers or as Parquet, and
// read back from either (each file by its extension).
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "features/engine.h"
#include "features/feature_row.h"
#include "features/schema.h"
#include "parquet/file.h"

namespace loadcast {

// How the tables are stored: CSV text, or Parquet (typed columns, zstd;
// parquet/file.h).
enum class TableFormat { kCsv, kParquet };
std::string_view table_format_name(TableFormat format);  // "csv", "parquet"

// The three tables of an output.
enum class Table { kFeatures, kHourly, kDaily };

// One server's rows of a table, formatted and grouped by month: built on
// any thread, then appended to the table's writer in order. CSV rows are
// text; Parquet rows are PLAIN-encoded column values.
class MonthlyRows {
 public:
  MonthlyRows() = default;  // CSV
  MonthlyRows(TableFormat format, size_t columns) : format_(format), columns_(columns) {}
  TableFormat format() const { return format_; }
  // CSV: where to append one row of year-month (with its newline); counts it.
  std::string& row(int year, int month);
  // Parquet: the columns to put one row of year-month in; counts it.
  std::vector<parquet::ColumnValues>& cells(int year, int month);
  void reserve(size_t bytes) {
    if (format_ == TableFormat::kCsv) text_.reserve(bytes);
  }
  // Frees what it holds (clear() keeps the capacity).
  void release() { *this = MonthlyRows(format_, columns_); }
  void clear();

 private:
  friend class PartitionedTableWriter;
  struct Month {
    int year;
    int month;
    size_t begin;  // into text_; it ends where the next one begins
    int64_t rows;
    std::vector<parquet::ColumnValues> cells;  // Parquet
  };
  Month& month_of(int year, int month);
  TableFormat format_ = TableFormat::kCsv;
  size_t columns_ = 0;
  std::string text_;
  std::vector<Month> months_;
};

// What one table writer holds in its buffers at most between appends.
uint64_t table_writer_bytes(TableFormat format);

// Writes rows into `<root>/YYYY/MM/part-NNNNN.csv` (or `.parquet`) files,
// one per month. CSV files have the header and are buffered; Parquet files
// take their rows in row groups of at most a few MiB, cut where the rows
// appended so far say (so the same rows in the same order give the same
// bytes). Every file is synced at close(). `part` numbers the writer's
// files: one writer per MPI rank, each with its own part.
class PartitionedTableWriter {
 public:
  PartitionedTableWriter(std::filesystem::path root, Table table, const FeatureSchema& schema,
                         TableFormat format = TableFormat::kCsv, int part = 0);
  ~PartitionedTableWriter();
  PartitionedTableWriter(const PartitionedTableWriter&) = delete;
  PartitionedTableWriter& operator=(const PartitionedTableWriter&) = delete;

  // An empty batch of rows of this table.
  MonthlyRows rows() const { return MonthlyRows(format_, columns_.size()); }
  // Appends a server's rows to their months' files.
  void append(const MonthlyRows& rows);
  void close();  // flushes and syncs every file
  int64_t rows_written = 0;

 private:
  struct Partition {
    std::FILE* file = nullptr;
    std::filesystem::path path;
    std::string buffer;
    size_t unsynced = 0;  // written since the last writeback was started
    std::unique_ptr<parquet::FileWriter> parquet;
  };
  void write_out(Partition& p, const char* data, size_t size);
  void flush(Partition& p);
  Partition& partition(int year, int month);
  void flush_full_buffers();
  void end_full_row_groups();

  std::filesystem::path root_;
  TableFormat format_;
  std::vector<parquet::Column> columns_;
  std::string file_name_;
  std::string header_;
  std::map<std::pair<int, int>, Partition> partitions_;
};

// The rows in the schema's columns (the header is the writer's).
void append_feature_row(MonthlyRows& out, const FeatureRow& row, const FeatureSchema& schema);
// The store rows of grid hours [begin, end) and of days [begin, end) (of
// history.daily).
void write_hourly_store(MonthlyRows& out, const ServerHistory& history, size_t begin, size_t end);
void write_daily_store(MonthlyRows& out, const ServerHistory& history, size_t begin, size_t end);

// Every part file under `features_dir`, parsed and sorted by ServerIP then
// hour. Throws a data error naming the file and line of a malformed row, and
// when there is no table at all. With `shares` > 1, only share number
// `share`: the rows whose line (or Parquet row group) starts in that share of
// the files' bytes taken end to end, so the shares of one table hold each
// row exactly once (each MPI rank reads its own).
std::vector<FeatureRow> read_feature_table(const std::filesystem::path& features_dir,
                                           const FeatureSchema& schema, int share = 0,
                                           int shares = 1);
// The same rows (of one share), visited as they are read, nothing held:
// `threads` parse parts of the share at once and take turns to visit what
// they parsed, so `visit` runs on one thread at a time, in no fixed order.
void for_each_feature_row(const std::filesystem::path& features_dir, const FeatureSchema& schema,
                          int share, int shares, const FeatureRowVisitor& visit, int threads = 1);

// The histories of every server in the hourly/daily stores under `root`
// (`root/hourly`, `root/daily`), sorted by ServerIP.
std::vector<ServerHistory> read_stores(const std::filesystem::path& root,
                                       const FeatureSchema& schema);

// The part files (CSV and Parquet) of a partitioned table, in sorted order.
std::vector<std::filesystem::path> partition_files(const std::filesystem::path& dir);

}  // namespace loadcast
