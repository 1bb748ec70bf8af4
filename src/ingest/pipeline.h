// The ingest pipeline: one reader turns the inputs into line-aligned chunks,
// a pool of workers parses them into per-chunk aggregates, and the chunks are
// merged in reading order, so the sums (and everything after them) do not
// depend on the number of threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aggregate/bucket_table.h"
#include "config/config.h"
#include "ingest/accounting.h"
#include "ingest/server_dictionary.h"
#include "io/input.h"

namespace loadcast {

struct IngestOptions {
  int threads = 1;                  // parsing workers
  bool filter_ip = false;           // FILTER_IP debug mode
  size_t chunk_bytes = 8u << 20;    // fixed, so results do not depend on threads
  bool progress = false;            // draw progress on stderr
};

struct IngestResult {
  std::vector<InputFile> files;
  Layout layout = Layout::kSessions17;
  LineAccounting accounting;
  BucketTable buckets;
  std::unique_ptr<ServerDictionary> servers;
  double seconds = 0;
};

// Resolves `auto` from the first input's first lines; throws a usage error
// when neither layout fits.
Layout resolve_layout(Layout configured, ChunkReader& reader, const std::string& first_input);

IngestResult ingest(const Config& config, const IngestOptions& options);

}  // namespace loadcast
