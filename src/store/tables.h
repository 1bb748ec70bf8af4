// The tables of docs/outputs.md as CSV in month folders (`features/2016/06/
// part-00000.csv`): the feature table and the hourly/daily stores, written
// with shortest round-trip numbers, and read back.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "features/engine.h"
#include "features/feature_row.h"
#include "features/schema.h"

namespace loadcast {

class MonthlyRows;

// Writes rows into `<root>/YYYY/MM/part-NNNNN.csv` files (one per month,
// each with the header), buffering and syncing each file. `part` numbers
// the writer's files: one writer per MPI rank, each with its own part.
class PartitionedCsvWriter {
 public:
  PartitionedCsvWriter(std::filesystem::path root, const std::vector<std::string>& columns,
                       int part = 0);
  ~PartitionedCsvWriter();
  PartitionedCsvWriter(const PartitionedCsvWriter&) = delete;
  PartitionedCsvWriter& operator=(const PartitionedCsvWriter&) = delete;

  // Appends a server's rows to their months' files.
  void append(const MonthlyRows& rows);
  void close();  // flushes and syncs every file
  int64_t rows_written = 0;

 private:
  struct Partition {
    std::FILE* file = nullptr;
    std::filesystem::path path;
    std::string buffer;
  };
  void flush(Partition& p);
  std::string& buffer(int year, int month);
  void flush_full_buffers();

  std::filesystem::path root_;
  std::string file_name_;
  std::string header_;
  std::map<std::pair<int, int>, Partition> partitions_;
};

// One server's rows of a table, formatted and grouped by month: built on
// any thread, then appended to the table's writer in order.
class MonthlyRows {
 public:
  // Where to append one row of year-month (with its newline); counts it.
  std::string& row(int year, int month);
  void reserve(size_t bytes) { text_.reserve(bytes); }
  size_t bytes() const { return text_.size(); }
  void clear();

 private:
  friend class PartitionedCsvWriter;
  struct Month {
    int year;
    int month;
    size_t begin;  // into text_; it ends where the next one begins
    int64_t rows;
  };
  std::string text_;
  std::vector<Month> months_;
};

// The rows in the schema's columns (the header is the writer's).
void append_feature_row(MonthlyRows& out, const FeatureRow& row, const FeatureSchema& schema);
// The store rows of grid hours [begin, end) and of days [begin, end) (of
// history.daily).
void write_hourly_store(MonthlyRows& out, const ServerHistory& history, size_t begin, size_t end);
void write_daily_store(MonthlyRows& out, const ServerHistory& history, size_t begin, size_t end);

// Every part-*.csv under `features_dir`, parsed and sorted by ServerIP then
// hour. Throws a data error naming the file and line of a malformed row, and
// when there is no table at all. With `shares` > 1, only share number
// `share`: the rows whose line starts in that share of the files' bytes taken
// end to end, so the shares of one table hold each row exactly once (each
// MPI rank reads its own).
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

// The CSV files of a partitioned table, in sorted order.
std::vector<std::filesystem::path> partition_files(const std::filesystem::path& dir);

}  // namespace loadcast
