// Input sources: expands the configuration's `dataFile` (a glob with `*`, `?`
// and `[...]` classes over local paths or the blobs of a container, or `-`
// for stdin) and reads the inputs as line-aligned chunks, so that memory
// never depends on the input size.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blob/storage.h"

namespace loadcast {

namespace blob {
class Client;
}

struct InputFile {
  std::string path;    // "-" is standard input; a blob's URL
  int64_t bytes = -1;  // -1 when unknown (stdin, pipes)
};

// The regular files matching `pattern` in sorted order, or stdin for "-".
// Throws a data error naming the pattern when nothing matches.
std::vector<InputFile> expand_inputs(const std::string& pattern);

// Reads byte ranges of one input. Thread-safe.
class RangeReader {
 public:
  virtual ~RangeReader() = default;
  // Up to `want` bytes at `offset`; fewer only at the input's end. Throws a
  // data error naming the input when it cannot be read.
  virtual size_t read_at(char* out, size_t want, int64_t offset) = 0;
};

// Where the inputs live: local files, or blobs (one client per account, so
// connections stay open between reads). Thread-safe.
class InputStore {
 public:
  explicit InputStore(blob::StorageSettings storage = {});
  ~InputStore();
  InputStore(const InputStore&) = delete;
  InputStore& operator=(const InputStore&) = delete;

  // The inputs `pattern` names in name order: local files (expand_inputs),
  // or for a blob URL the blobs matching its glob (listed by the glob's
  // fixed prefix, matched as local globs are, `/` never matched by a wildcard).
  std::vector<InputFile> expand(const std::string& pattern);
  std::unique_ptr<RangeReader> open(const InputFile& file);
  // True when `file` is read over the network (a chunk is then read at once).
  static bool remote(const InputFile& file);
  // What the blob clients sent and received so far (all zero for files).
  blob::Traffic traffic();

 private:
  blob::Client& client_for(const blob::BlobUrl& url);

  blob::StorageSettings storage_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<blob::Client>> clients_;  // by account; guarded
};

// A piece of one input holding whole lines only (the last line of a file may
// lack its newline). A leading byte-order mark of a file is already removed.
struct Chunk {
  uint64_t sequence = 0;  // position in reading order
  int file_index = 0;
  std::vector<char> data;
  size_t size = 0;
  std::string_view text() const { return {data.data(), size}; }
};

// Reads files one after another into chunks of about `chunk_bytes` (more when
// one line is longer). Not thread-safe: one reader feeds the workers.
class ChunkReader {
 public:
  ChunkReader(std::vector<InputFile> files, size_t chunk_bytes);
  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  // Fills `chunk` (reusing its buffer); false at the end of all inputs.
  // Throws a data error naming the file when it cannot be read.
  bool next(Chunk& chunk);

  // The first bytes of the first input, read ahead without consuming them
  // (used to detect the column layout).
  std::string_view peek(size_t bytes);

 private:
  bool open_next_file();
  size_t read_some(char* out, size_t want);

  std::vector<InputFile> files_;
  size_t chunk_bytes_;
  int current_ = -1;
  int fd_ = -1;
  bool at_file_start_ = false;
  bool eof_ = true;
  std::vector<char> carry_;  // bytes read past the last newline
  uint64_t sequence_ = 0;
};

}  // namespace loadcast
