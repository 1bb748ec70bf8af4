// Where the ingest pipeline's chunks come from. Files are cut into fixed byte
// ranges and a chunk holds the lines that start in its range, so the chunks
// depend only on the inputs and the chunk size: any rank reads any chunk by
// itself, and chunk i of the global list belongs to rank i mod ranks.
// Standard input cannot be split that way: rank 0 reads it in order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.h"

namespace loadcast {

// The default size of a chunk, the unit of partial sums: results depend
// on it only in the last bits of float sums, never on threads or ranks.
inline constexpr size_t kDefaultChunkBytes = size_t{8} << 20;

// A nominal byte range [begin, end) of one input file.
struct ChunkRange {
  int file = 0;
  int64_t begin = 0;
  int64_t end = 0;
};

// The ranges of every file, in global chunk order (files in the given order,
// each cut every `chunk_bytes`; an empty file has none).
std::vector<ChunkRange> plan_chunks(const std::vector<InputFile>& files, size_t chunk_bytes);

// Receives a run of whole lines of a chunk (the last line of a file may lack
// its newline).
using LinesHandler = std::function<void(std::string_view lines)>;

class ChunkSource {
 public:
  // A chunk of a file is read in pieces of about this size, each parsed
  // while it is still in the CPU's cache.
  static constexpr size_t kPieceBytes = size_t{512} << 10;

  // This rank's share of the chunks of `files` (rank 0 alone reads stdin),
  // opened through `store` (local files when null). Blobs are read a chunk
  // at a time, as several ranged reads at once.
  ChunkSource(std::vector<InputFile> files, size_t chunk_bytes, int rank, int ranks,
              size_t piece_bytes = kPieceBytes, std::shared_ptr<InputStore> store = nullptr);
  ~ChunkSource();
  ChunkSource(const ChunkSource&) = delete;
  ChunkSource& operator=(const ChunkSource&) = delete;

  const std::vector<InputFile>& files() const { return files_; }
  InputStore& store() { return *store_; }

  // Up to `bytes` from the start of the first input, without consuming them
  // (for layout detection). Not thread-safe; call before next().
  std::string_view peek(size_t bytes);

  // Claims this rank's next chunk in global order: sets `chunk.sequence` (the
  // global chunk index) and `range`; a chunk of stdin is read into `chunk`
  // at once (range.file is then -1). False when this rank has no chunk left.
  // Thread-safe.
  bool claim(Chunk& chunk, ChunkRange& range);

  // Hands the lines of a claimed chunk to `lines`, in order, a piece at a
  // time, using `buffer` (the claim's chunk) for the bytes. Thread-safe for
  // distinct buffers; throws a data error naming a file that cannot be read.
  void read_lines(const ChunkRange& range, Chunk& buffer, const LinesHandler& lines);

 private:
  RangeReader& reader(int file);
  // read_lines for inputs over the network: the range, the byte before it
  // and a margin past it in one read, so a chunk costs one request.
  void read_lines_at_once(const ChunkRange& range, Chunk& buffer, const LinesHandler& lines);

  std::vector<InputFile> files_;
  size_t chunk_bytes_;
  size_t piece_bytes_;
  bool remote_ = false;  // read a chunk at once
  bool stdin_ = false;
  std::unique_ptr<ChunkReader> stream_;  // stdin, rank 0 only
  std::vector<ChunkRange> plan_;
  std::vector<uint64_t> mine_;  // global indices of this rank's chunks
  std::string peeked_;

  std::mutex mutex_;
  size_t cursor_ = 0;  // into mine_; guarded by mutex_
  std::shared_ptr<InputStore> store_;
  std::vector<std::unique_ptr<RangeReader>> readers_;  // opened on first use; guarded by mutex_
};

}  // namespace loadcast
