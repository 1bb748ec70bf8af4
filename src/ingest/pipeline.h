// The ingest pipeline: a pool of workers parses this rank's chunks (see
// chunk_source.h) into one partial aggregate per chunk, a round of chunks at
// a time, and each round is handed on while the next one is parsed. Merging
// the partials in global chunk order makes every sum, and everything after
// it, independent of the thread and rank counts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/bucket_table.h"
#include "aggregate/server_dictionary.h"
#include "ingest/accounting.h"
#include "ingest/chunk_source.h"
#include "ingest/line_parser.h"
#include "io/input.h"

namespace loadcast {

struct IngestOptions {
  int threads = 1;  // parsing workers
  size_t chunk_bytes = kDefaultChunkBytes;
  bool progress = false;  // draw progress on stderr
  // Chunks per rank and round (memory: two rounds of partials); 0 means two
  // per thread. REQUIRES: the same on every rank of a job.
  int round_chunks = 0;
};

// Receives one round's partials, sorted by chunk, and merges them; returns
// false when no rank has chunks left (the pipeline then stops).
using RoundHandler = std::function<bool(std::vector<ChunkPartial>& round)>;

// How much of the first input layout detection looks at.
inline constexpr size_t kLayoutSampleBytes = size_t{256} << 10;

// The total size of the inputs, -1 when one is unknown (stdin).
int64_t total_input_bytes(const std::vector<InputFile>& files);

// Resolves `auto` from a sample of the first input's first lines; throws a
// usage error when neither layout fits.
Layout resolve_layout(Layout configured, std::string_view sample, const std::string& first_input);

// Parses every chunk that `source` holds for this rank, round after round,
// and returns this rank's line accounting. `progress_bytes`: the input size
// the progress display counts towards (-1 unknown).
LineAccounting parse_rounds(ChunkSource& source, const LineRules& rules, ServerDictionary& servers,
                            const IngestOptions& options, int64_t progress_bytes,
                            const RoundHandler& handle);

struct IngestResult {
  std::vector<InputFile> files;
  Layout layout = Layout::kSessions17;
  LineAccounting accounting;
  BucketTable buckets;
  std::unique_ptr<ServerDictionary> servers;
  double seconds = 0;
};

// One process: every chunk of the inputs `data_file` names (expand_inputs)
// merged in order. `rules.layout` may be kAuto: it is then detected from the
// first input.
IngestResult ingest(const std::string& data_file, LineRules rules, const IngestOptions& options);

}  // namespace loadcast
