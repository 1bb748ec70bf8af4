#include "io/input.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "blob/client.h"
#include "common/error.h"

namespace loadcast {

std::vector<InputFile> expand_inputs(const std::string& pattern) {
  if (pattern == "-") return {InputFile{"-", -1}};
  glob_t matches{};
  const int rc = glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<InputFile> files;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      struct stat st {};
      if (stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode))
        files.push_back(InputFile{matches.gl_pathv[i], static_cast<int64_t>(st.st_size)});
    }
  }
  globfree(&matches);
  if (files.empty()) fail_data("no input file matches dataFile '" + pattern + "'");
  return files;
}

ChunkReader::ChunkReader(std::vector<InputFile> files, size_t chunk_bytes)
    : files_(std::move(files)), chunk_bytes_(chunk_bytes) {}

ChunkReader::~ChunkReader() {
  if (fd_ > 0) ::close(fd_);
}

bool ChunkReader::open_next_file() {
  if (fd_ > 0) ::close(fd_);
  fd_ = -1;
  if (++current_ >= static_cast<int>(files_.size())) return false;
  const std::string& path = files_[current_].path;
  fd_ = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail_data("cannot read input file '" + path + "': " + std::strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
  if (fd_ > 0) posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  at_file_start_ = true;
  eof_ = false;
  return true;
}

size_t ChunkReader::read_some(char* out, size_t want) {
  size_t got = 0;
  while (got < want) {
    const ssize_t n = ::read(fd_, out + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_data("cannot read input file '" + files_[current_].path + "': " + std::strerror(errno));
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    got += static_cast<size_t>(n);
  }
  return got;
}

std::string_view ChunkReader::peek(size_t bytes) {
  if (current_ < 0 && !open_next_file()) return {};
  while (carry_.size() < bytes && !eof_) {
    const size_t old = carry_.size();
    carry_.resize(bytes);
    carry_.resize(old + read_some(carry_.data() + old, bytes - old));
  }
  return {carry_.data(), carry_.size()};
}

bool ChunkReader::next(Chunk& chunk) {
  if (current_ < 0 && !open_next_file()) return false;
  while (true) {
    if (eof_ && carry_.empty()) {
      if (!open_next_file()) return false;
      continue;
    }
    // Start with what was read past the previous chunk's last newline. The
    // chunk reads up to `limit` bytes, whatever the size of a reused buffer,
    // so the cuts depend on the stream alone.
    size_t size = carry_.size();
    size_t limit = chunk_bytes_ + size;
    if (chunk.data.size() < limit) chunk.data.resize(limit);
    if (size) std::memcpy(chunk.data.data(), carry_.data(), size);
    carry_.clear();
    size_t newline_end = 0;  // one past the last newline in the chunk
    while (true) {
      if (!eof_) size += read_some(chunk.data.data() + size, limit - size);
      const void* last = size ? memrchr(chunk.data.data(), '\n', size) : nullptr;
      if (last) newline_end = static_cast<const char*>(last) - chunk.data.data() + 1;
      if (eof_ || newline_end > 0) break;
      limit *= 2;  // one line longer than the chunk
      if (chunk.data.size() < limit) chunk.data.resize(limit);
    }
    size_t keep = eof_ ? size : newline_end;
    carry_.assign(chunk.data.begin() + static_cast<ptrdiff_t>(keep),
                  chunk.data.begin() + static_cast<ptrdiff_t>(size));
    size_t start = 0;
    if (at_file_start_) {
      at_file_start_ = false;
      if (keep >= 3 && std::memcmp(chunk.data.data(), "\xEF\xBB\xBF", 3) == 0) start = 3;
    }
    if (start) std::memmove(chunk.data.data(), chunk.data.data() + start, keep - start);
    chunk.size = keep - start;
    chunk.file_index = current_;
    chunk.sequence = sequence_++;
    if (chunk.size == 0 && eof_ && carry_.empty()) continue;  // empty file
    return true;
  }
}

}  // namespace loadcast

namespace loadcast {
namespace {

class FileReader final : public RangeReader {
 public:
  explicit FileReader(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_data("cannot read input file '" + path_ + "': " + std::strerror(errno));
  }
  ~FileReader() override { ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  size_t read_at(char* out, size_t want, int64_t offset) override {
    size_t got = 0;
    while (got < want) {
      const ssize_t n =
          ::pread(fd_, out + got, want - got, static_cast<off_t>(offset) + static_cast<off_t>(got));
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_data("cannot read input file '" + path_ + "': " + std::strerror(errno));
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    return got;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

class BlobReader final : public RangeReader {
 public:
  BlobReader(blob::Client& client, blob::BlobUrl url) : client_(client), url_(std::move(url)) {}
  size_t read_at(char* out, size_t want, int64_t offset) override {
    return client_.read(url_.container, url_.path, offset, want, out);
  }

 private:
  blob::Client& client_;
  blob::BlobUrl url_;
};

// The part of a glob before its first wildcard: what the listing asks for.
std::string fixed_prefix(const std::string& glob) {
  return glob.substr(0, glob.find_first_of("*?["));
}

}  // namespace

InputStore::InputStore(blob::StorageSettings storage) : storage_(std::move(storage)) {}

InputStore::~InputStore() = default;

bool InputStore::remote(const InputFile& file) { return blob::is_blob_url(file.path); }

blob::Client& InputStore::client_for(const blob::BlobUrl& url) {
  std::lock_guard lock(mutex_);
  auto& client = clients_[url.account + " " + url.endpoint];
  if (!client) client = std::make_unique<blob::Client>(blob::resolve_service(url, storage_));
  return *client;
}

blob::Traffic InputStore::traffic() {
  std::lock_guard lock(mutex_);
  blob::Traffic sum;
  for (const auto& [name, client] : clients_) {
    const blob::Traffic t = client->traffic();
    sum.requests += t.requests;
    sum.retries += t.retries;
    sum.bytes_read += t.bytes_read;
  }
  return sum;
}

std::vector<InputFile> InputStore::expand(const std::string& pattern) {
  if (!blob::is_blob_url(pattern)) return expand_inputs(pattern);
  const blob::BlobUrl url = blob::parse_blob_url(pattern, "the input");
  blob::Client& client = client_for(url);
  std::vector<InputFile> files;
  for (const blob::BlobItem& item : client.list(url.container, fixed_prefix(url.path)))
    if (fnmatch(url.path.c_str(), item.name.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
      files.push_back({url.with_path(item.name).text(), item.bytes});
  if (files.empty())
    fail_data("no blob matches dataFile '" + url.text() + "' (container '" + url.container +
              "' of account '" + url.account + "')");
  return files;
}

std::unique_ptr<RangeReader> InputStore::open(const InputFile& file) {
  if (!remote(file)) return std::make_unique<FileReader>(file.path);
  const blob::BlobUrl url = blob::parse_blob_url(file.path, "input");
  return std::make_unique<BlobReader>(client_for(url), url);
}

}  // namespace loadcast
