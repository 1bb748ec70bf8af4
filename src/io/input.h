// Input sources: expands the configuration's `dataFile` (a glob with `*`, `?`
// and `[...]` classes, or `-` for stdin) and reads the inputs as line-aligned
// chunks, so that memory never depends on the input size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace loadcast {

struct InputFile {
  std::string path;    // "-" is standard input
  int64_t bytes = -1;  // -1 when unknown (stdin, pipes)
};

// The regular files matching `pattern` in sorted order, or stdin for "-".
// Throws a data error naming the pattern when nothing matches.
std::vector<InputFile> expand_inputs(const std::string& pattern);

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
