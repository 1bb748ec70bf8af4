// The `etl` job end to end: ingest the raw sessions, build every server's
// hourly grid and feature rows with the feature engine, and write the feature
// table, the hourly/daily stores and etl_summary.json atomically (docs/outputs.md),
// in one process or on the ranks of an MPI job (dist/).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "dist/communicator.h"
#include "ingest/accounting.h"
#include "ingest/chunk_source.h"

namespace loadcast {

struct EtlOptions {
  int threads = 1;
  bool filter_ip = false;
  bool progress = false;
  size_t chunk_bytes = kDefaultChunkBytes;
  // What the job may hold in memory per process; past it the aggregate
  // spills (aggregate/spill.h). 0: dist::default_memory_limit().
  uint64_t memory_limit = 0;
  // Where the spill runs go; empty: inside the output folder.
  std::filesystem::path spill_dir;
};

// What the spill did on all ranks.
struct SpillReport {
  int64_t bytes = 0;      // compressed, written
  int64_t raw_bytes = 0;  // before compression
  int64_t runs = 0;
  int64_t ranks = 0;         // that spilled
  int64_t late_entries = 0;  // contributions to buckets already spilled
};

// NOLINTNEXTLINE(bugprone-exception-escape): clang-tidy 14 misreads the members' implicit moves
struct EtlReport {
  LineAccounting accounting;
  int64_t servers = 0;
  int64_t rows = 0;
  int64_t daily_rows = 0;
  double ingest_seconds = 0;
  double total_seconds = 0;
  int ranks = 1;
  int64_t shuffle_bytes = 0;  // partial aggregates sent between ranks, all ranks
  int64_t shuffle_rounds = 0;
  double shuffle_seconds = 0;  // this rank's main thread in the shuffle (waits included)
  uint64_t memory_limit = 0;   // per process, as resolved
  SpillReport spill;
  blob::Traffic blob;           // requests to blob storage, all ranks
  int64_t feature_batches = 0;  // groups of servers built together, all ranks
  nlohmann::json summary;       // what etl_summary.json holds
};

// What reading the input takes of the memory limit, whatever the input: the
// program, the table writers of `format` (held for the whole run), each
// thread's chunk buffer, the partial aggregates of the rounds in flight and,
// between ranks, what a round sends and receives. The rest of the limit is
// the aggregate's; a limit below this is refused.
uint64_t reading_memory_bytes(int threads, size_t chunk_bytes, int ranks,
                              TableFormat format = TableFormat::kCsv);

// Runs the job and writes under `config.output`. Throws a data error when no
// line is accepted (the previous output then stays as it was).
EtlReport run_etl(const Config& config, const EtlOptions& options);

// What etl writes under the output folder and commits together: the three
// tables and, last, the summary that marks the output complete.
const std::vector<std::string>& etl_output_names();

// The same job on every rank of `comm`: the ranks read their share of the
// input chunks, shuffle the partial aggregates to the owner of each server,
// build that server's features and write their own part files; rank 0 puts
// the output in place once every rank has written, and then the summary.
// Counts in the returned report are totals over all ranks.
EtlReport run_etl(const Config& config, const EtlOptions& options, dist::Communicator& comm);

// The line accounting, servers and rows of the etl_summary.json under
// `output` (what a model bundle records about its data); null when there
// is no readable summary.
nlohmann::json read_data_accounting(const std::filesystem::path& output);

// Throws Failure(kUsage) when the etl_summary.json under `config.output`
// records another window or other thresholds than `config` (the split
// aside): the feature table's rows, linearTrend and labels were made with
// them, and a model trained on it would record the wrong ones. Nothing when
// there is no summary.
void check_features_match(const Config& config);

}  // namespace loadcast
