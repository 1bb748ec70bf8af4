#include "ingest/chunk_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace loadcast {

std::vector<ChunkRange> plan_chunks(const std::vector<InputFile>& files, size_t chunk_bytes) {
  const int64_t step = static_cast<int64_t>(std::max<size_t>(chunk_bytes, 1));
  std::vector<ChunkRange> plan;
  for (int f = 0; f < static_cast<int>(files.size()); ++f)
    for (int64_t begin = 0; begin < files[f].bytes; begin += step)
      plan.push_back({f, begin, std::min(begin + step, files[f].bytes)});
  return plan;
}

namespace {

// Reads up to `want` bytes at `offset`; fewer only at the end of the file.
size_t read_at(int fd, char* out, size_t want, int64_t offset, const std::string& path) {
  size_t got = 0;
  while (got < want) {
    const ssize_t n =
        ::pread(fd, out + got, want - got, static_cast<off_t>(offset) + static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_data("cannot read input file '" + path + "': " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

constexpr size_t kProbeBytes = 64 * 1024;

}  // namespace

ChunkSource::ChunkSource(std::vector<InputFile> files, size_t chunk_bytes, int rank, int ranks)
    : files_(std::move(files)), chunk_bytes_(chunk_bytes) {
  stdin_ = files_.size() == 1 && files_[0].path == "-";
  if (stdin_) {
    if (rank == 0) stream_ = std::make_unique<ChunkReader>(files_, chunk_bytes_);
    return;
  }
  plan_ = plan_chunks(files_, chunk_bytes_);
  for (uint64_t i = static_cast<uint64_t>(rank); i < plan_.size();
       i += static_cast<uint64_t>(ranks))
    mine_.push_back(i);
  fds_.assign(files_.size(), -1);
}

ChunkSource::~ChunkSource() {
  for (int fd : fds_)
    if (fd >= 0) ::close(fd);
}

int ChunkSource::descriptor(int file) {
  std::lock_guard lock(mutex_);
  int& fd = fds_[static_cast<size_t>(file)];
  if (fd < 0) {
    const std::string& path = files_[static_cast<size_t>(file)].path;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_data("cannot read input file '" + path + "': " + std::strerror(errno));
  }
  return fd;
}

std::string_view ChunkSource::peek(size_t bytes) {
  if (stdin_) return stream_ ? stream_->peek(bytes) : std::string_view{};
  if (files_.empty()) return {};
  peeked_.resize(bytes);
  peeked_.resize(read_at(descriptor(0), peeked_.data(), bytes, 0, files_[0].path));
  return peeked_;
}

bool ChunkSource::next(Chunk& chunk) {
  if (stdin_) {
    std::lock_guard lock(mutex_);
    if (!stream_) return false;
    // ChunkReader fills whatever buffer it is given: a reused, larger buffer
    // would move the cut. An empty one makes the chunks a function of the stream.
    chunk.data.clear();
    return stream_->next(chunk);
  }
  uint64_t index = 0;
  {
    std::lock_guard lock(mutex_);
    if (cursor_ >= mine_.size()) return false;
    index = mine_[cursor_++];
  }
  read_range(plan_[index], chunk);
  chunk.sequence = index;
  return true;
}

void ChunkSource::read_range(const ChunkRange& range, Chunk& chunk) {
  const InputFile& file = files_[static_cast<size_t>(range.file)];
  const int fd = descriptor(range.file);
  chunk.file_index = range.file;
  chunk.size = 0;

  // A line belongs to the chunk where it starts: unless the range starts the
  // file, skip past the first newline at or after begin - 1.
  int64_t start = range.begin;
  if (start > 0) {
    char probe[4096];
    int64_t pos = start - 1;
    start = range.end;
    while (pos < range.end) {
      const size_t n = read_at(fd, probe, sizeof probe, pos, file.path);
      if (n == 0) break;
      if (const void* nl = std::memchr(probe, '\n', n)) {
        start = pos + (static_cast<const char*>(nl) - probe) + 1;
        break;
      }
      pos += static_cast<int64_t>(n);
    }
    if (start >= range.end) return;  // one line spans the whole range
  }

  // The last line starting in the range runs to the first newline at or after end - 1.
  const size_t body = static_cast<size_t>(range.end - start);
  if (chunk.data.size() < body + kProbeBytes) chunk.data.resize(body + kProbeBytes);
  size_t have = read_at(fd, chunk.data.data(), body, start, file.path);
  if (have == body && range.end < file.bytes && chunk.data[body - 1] != '\n') {
    int64_t pos = range.end;
    while (pos < file.bytes) {
      if (chunk.data.size() < have + kProbeBytes)
        chunk.data.resize(std::max(have + kProbeBytes, chunk.data.size() * 2));
      const size_t want = static_cast<size_t>(std::min<int64_t>(kProbeBytes, file.bytes - pos));
      const size_t n = read_at(fd, chunk.data.data() + have, want, pos, file.path);
      if (n == 0) break;
      if (const void* nl = std::memchr(chunk.data.data() + have, '\n', n)) {
        have = static_cast<size_t>(static_cast<const char*>(nl) - chunk.data.data()) + 1;
        break;
      }
      have += n;
      pos += static_cast<int64_t>(n);
    }
  }
  // The byte-order mark is not part of the first line.
  if (range.begin == 0 && have >= 3 && std::memcmp(chunk.data.data(), "\xEF\xBB\xBF", 3) == 0) {
    std::memmove(chunk.data.data(), chunk.data.data() + 3, have - 3);
    have -= 3;
  }
  chunk.size = have;
}

}  // namespace loadcast
