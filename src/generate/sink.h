// Where generated lines go: one stream (stdout or any file descriptor, or
// memory) or the seed's folder layout DIR/YYYY/MM/{a,b}/{0..6}/request.csv,
// where `a` holds days 1-15 of the month, `b` days 16 to its end, and 0..6 is
// the UTC weekday of the sessions, Monday..Sunday.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace loadcast::generate {

// A run of whole lines, all generated for one UTC day (a slice of one hour),
// handed over in time order.
struct Chunk {
  int64_t first_second = 0;  // start of the slice the lines belong to
  std::string_view bytes;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Throws Failure on a write error.
  virtual void write(const Chunk& chunk) = 0;
  // Flushes and closes; called once after the last chunk.
  virtual void finish() {}
};

// Writes everything to a file descriptor it does not own (stdout: fd 1).
class FdSink : public Sink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write(const Chunk& chunk) override;

 private:
  int fd_;
  std::string name_;  // for error messages
};

class MemorySink : public Sink {
 public:
  void write(const Chunk& chunk) override { data_.append(chunk.bytes); }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

// The seed's folder layout. Files are created (truncated) on first use; at
// most one month's fourteen files are open at a time.
class FolderSink : public Sink {
 public:
  explicit FolderSink(std::filesystem::path root);
  ~FolderSink() override;
  FolderSink(const FolderSink&) = delete;
  FolderSink& operator=(const FolderSink&) = delete;

  void write(const Chunk& chunk) override;
  void finish() override;

  // The file holding the sessions of the day containing `epoch_second`,
  // relative to the root: YYYY/MM/{a,b}/{0..6}/request.csv.
  static std::filesystem::path file_for(int64_t epoch_second);

 private:
  void close_all();

  std::filesystem::path root_;
  int64_t month_ = INT64_MIN;  // year * 12 + month of the open files
  std::array<int, 14> fds_;    // [half * 7 + weekday], -1 when closed
};

}  // namespace loadcast::generate
