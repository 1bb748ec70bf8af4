#include "ingest/chunk_source.h"

#include <algorithm>
#include <cstring>

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

constexpr size_t kProbeBytes = size_t{64} << 10;

}  // namespace

ChunkSource::ChunkSource(std::vector<InputFile> files, size_t chunk_bytes, int rank, int ranks,
                         size_t piece_bytes, std::shared_ptr<InputStore> store)
    : files_(std::move(files)),
      chunk_bytes_(chunk_bytes),
      piece_bytes_(std::max<size_t>(piece_bytes, 1)),
      store_(store ? std::move(store) : std::make_shared<InputStore>()) {
  remote_ = !files_.empty() && InputStore::remote(files_[0]);
  stdin_ = files_.size() == 1 && files_[0].path == "-";
  if (stdin_) {
    if (rank == 0) stream_ = std::make_unique<ChunkReader>(files_, chunk_bytes_);
    return;
  }
  plan_ = plan_chunks(files_, chunk_bytes_);
  for (uint64_t i = static_cast<uint64_t>(rank); i < plan_.size();
       i += static_cast<uint64_t>(ranks))
    mine_.push_back(i);
  readers_.resize(files_.size());
}

ChunkSource::~ChunkSource() = default;

RangeReader& ChunkSource::reader(int file) {
  std::lock_guard lock(mutex_);
  auto& reader = readers_[static_cast<size_t>(file)];
  if (!reader) reader = store_->open(files_[static_cast<size_t>(file)]);
  return *reader;
}

std::string_view ChunkSource::peek(size_t bytes) {
  if (stdin_) return stream_ ? stream_->peek(bytes) : std::string_view{};
  if (files_.empty()) return {};
  peeked_.resize(bytes);
  peeked_.resize(reader(0).read_at(peeked_.data(), bytes, 0));
  return peeked_;
}

bool ChunkSource::claim(Chunk& chunk, ChunkRange& range) {
  if (stdin_) {
    std::lock_guard lock(mutex_);
    if (!stream_) return false;
    range = ChunkRange{-1, 0, 0};
    return stream_->next(chunk);
  }
  uint64_t index = 0;
  {
    std::lock_guard lock(mutex_);
    if (cursor_ >= mine_.size()) return false;
    index = mine_[cursor_++];
  }
  range = plan_[index];
  chunk.sequence = index;
  chunk.file_index = range.file;
  chunk.size = 0;
  return true;
}

void ChunkSource::read_lines(const ChunkRange& range, Chunk& buffer, const LinesHandler& lines) {
  if (range.file < 0) {
    if (buffer.size > 0) lines(buffer.text());
    return;
  }
  if (remote_) {
    read_lines_at_once(range, buffer, lines);
    return;
  }
  const InputFile& file = files_[static_cast<size_t>(range.file)];
  RangeReader& input = reader(range.file);

  // A line belongs to the chunk where it starts: unless the range starts the
  // file, skip past the first newline at or after begin - 1.
  int64_t start = range.begin;
  if (start > 0) {
    char probe[4096];
    int64_t pos = start - 1;
    start = range.end;
    while (pos < range.end) {
      const size_t n = input.read_at(probe, sizeof probe, pos);
      if (n == 0) break;
      if (const void* nl = std::memchr(probe, '\n', n)) {
        start = pos + (static_cast<const char*>(nl) - probe) + 1;
        break;
      }
      pos += static_cast<int64_t>(n);
    }
    if (start >= range.end) return;  // one line spans the whole range
  }

  // Pieces of whole lines up to the end of the range; then the last line that
  // starts in the range runs to the first newline at or after end - 1. The
  // bytes of a line cut by a piece move to the front of the buffer.
  std::vector<char>& data = buffer.data;
  size_t have = 0;              // bytes in data not handed on yet: at most an unfinished line
  int64_t data_offset = start;  // file offset of data[0]
  bool at_file_start = range.begin == 0;
  while (true) {
    const int64_t pos = data_offset + static_cast<int64_t>(have);
    const bool in_range = pos < range.end;
    const size_t want = static_cast<size_t>(
        in_range ? std::min<int64_t>(static_cast<int64_t>(piece_bytes_), range.end - pos)
                 : std::min<int64_t>(kProbeBytes, file.bytes - pos));
    if (data.size() < have + want) data.resize(std::max(have + want, data.size() * 2));
    const size_t n = want == 0 ? 0 : input.read_at(data.data() + have, want, pos);
    const size_t fresh = have;  // data[fresh, have) was just read
    have += n;
    const bool at_end_of_file = n < want || pos + static_cast<int64_t>(n) >= file.bytes;
    if (at_file_start && (have >= 3 || at_end_of_file)) {
      // The byte-order mark is not part of the first line.
      if (have >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) {
        std::memmove(data.data(), data.data() + 3, have - 3);
        have -= 3;
        data_offset += 3;
      }
      at_file_start = false;
    }
    if (at_file_start) continue;  // fewer than three bytes yet: maybe a mark
    if (data_offset + static_cast<int64_t>(have) >= range.end || at_end_of_file) {
      // Past the range: the first newline at or after end - 1 ends the chunk.
      const size_t from = static_cast<size_t>(std::max<int64_t>(range.end - 1 - data_offset, 0));
      const void* nl = from < have ? std::memchr(data.data() + from, '\n', have - from) : nullptr;
      if (nl || at_end_of_file) {
        const size_t through =
            nl ? static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1 : have;
        if (through > 0) lines(std::string_view(data.data(), through));
        return;
      }
      continue;  // the last line goes on past the range
    }
    // Inside the range: hand on every whole line, keep the cut one.
    const void* last = have > fresh ? memrchr(data.data() + fresh, '\n', have - fresh) : nullptr;
    if (!last) continue;
    const size_t through = static_cast<size_t>(static_cast<const char*>(last) - data.data()) + 1;
    lines(std::string_view(data.data(), through));
    std::memmove(data.data(), data.data() + through, have - through);
    have -= through;
    data_offset += static_cast<int64_t>(through);
  }
}

void ChunkSource::read_lines_at_once(const ChunkRange& range, Chunk& buffer,
                                     const LinesHandler& lines) {
  // The same lines as read_lines: those that start in [begin, end), the
  // first one after the first newline at or after begin - 1, the last one
  // ending at the first newline at or after end - 1.
  const InputFile& file = files_[static_cast<size_t>(range.file)];
  RangeReader& input = reader(range.file);
  std::vector<char>& data = buffer.data;
  const int64_t base = range.begin > 0 ? range.begin - 1 : 0;  // file offset of data[0]
  size_t have = 0;
  bool at_end = false;
  const auto extend = [&](int64_t want) {
    want = std::min<int64_t>(want, file.bytes - base - static_cast<int64_t>(have));
    if (want <= 0) {
      at_end = true;
      return;
    }
    if (data.size() < have + static_cast<size_t>(want))
      data.resize(have + static_cast<size_t>(want));
    const size_t n = input.read_at(data.data() + have, static_cast<size_t>(want),
                                   base + static_cast<int64_t>(have));
    have += n;
    if (n < static_cast<size_t>(want) || base + static_cast<int64_t>(have) >= file.bytes)
      at_end = true;
  };
  extend(range.end - base + static_cast<int64_t>(kProbeBytes));

  // One past the first newline at or after data[from], reading on as
  // needed; 0 when the input ends first.
  const auto line_end_from = [&](size_t from) -> size_t {
    while (true) {
      const void* nl = from < have ? std::memchr(data.data() + from, '\n', have - from) : nullptr;
      if (nl) return static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
      if (at_end) return 0;
      from = std::max(from, have);
      extend(static_cast<int64_t>(kProbeBytes));
    }
  };
  size_t start = 0;
  if (range.begin > 0) {
    start = line_end_from(0);
    if (start == 0) return;  // the line that ends the file started before the range
    if (base + static_cast<int64_t>(start) >= range.end) return;  // one line spans the range
  } else if (have >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) {
    start = 3;  // the byte-order mark is not part of the first line
  }
  size_t through = line_end_from(std::max(static_cast<size_t>(range.end - 1 - base), start));
  if (through == 0) through = have;
  if (through > start) lines(std::string_view(data.data() + start, through - start));
}

}  // namespace loadcast
