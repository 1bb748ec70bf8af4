// The `etl` job end to end: ingest the raw sessions, build every server's
// hourly grid and feature rows with the feature engine, and write the feature
// table, the hourly/daily stores and etl_summary.json atomically (SPEC §6).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "ingest/accounting.h"

namespace loadcast {

struct EtlOptions {
  int threads = 1;
  bool filter_ip = false;
  bool progress = false;
  size_t chunk_bytes = 8u << 20;
};

struct EtlReport {
  LineAccounting accounting;
  int64_t servers = 0;
  int64_t rows = 0;
  int64_t daily_rows = 0;
  double ingest_seconds = 0;
  double total_seconds = 0;
  nlohmann::json summary;  // what etl_summary.json holds
};

// Runs the job and writes under `config.output`. Throws a data error when no
// line is accepted (the previous output then stays as it was).
EtlReport run_etl(const Config& config, const EtlOptions& options);

}  // namespace loadcast
