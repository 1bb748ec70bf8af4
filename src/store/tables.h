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

  // The buffer to append one row (with its newline) for month year-month.
  std::string& buffer(int year, int month);
  void flush_full_buffers();
  void close();  // flushes and syncs every file
  int64_t rows_written = 0;

 private:
  struct Partition {
    std::FILE* file = nullptr;
    std::filesystem::path path;
    std::string buffer;
  };
  void flush(Partition& p);

  std::filesystem::path root_;
  std::string file_name_;
  std::string header_;
  std::map<std::pair<int, int>, Partition> partitions_;
};

// The rows in the schema's columns (the header is the writer's).
void write_feature_rows(PartitionedCsvWriter& out, std::span<const FeatureRow> rows,
                        const FeatureSchema& schema);
void write_hourly_store(PartitionedCsvWriter& out, const ServerHistory& history);
void write_daily_store(PartitionedCsvWriter& out, const ServerHistory& history);

// Every part-*.csv under `features_dir`, parsed and sorted by ServerIP then
// hour. Throws a data error naming the file and line of a malformed row, and
// when there is no table at all. With `shares` > 1, only share number
// `share`: the rows whose line starts in that share of the files' bytes taken
// end to end, so the shares of one table hold each row exactly once (each
// MPI rank reads its own).
std::vector<FeatureRow> read_feature_table(const std::filesystem::path& features_dir,
                                           const FeatureSchema& schema, int share = 0,
                                           int shares = 1);

// The histories of every server in the hourly/daily stores under `root`
// (`root/hourly`, `root/daily`), sorted by ServerIP.
std::vector<ServerHistory> read_stores(const std::filesystem::path& root,
                                       const FeatureSchema& schema);

// The CSV files of a partitioned table, in sorted order.
std::vector<std::filesystem::path> partition_files(const std::filesystem::path& dir);

}  // namespace loadcast
