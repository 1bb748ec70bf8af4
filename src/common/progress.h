// Progress of long runs on stderr: bytes, rows/s and an ETA, redrawn at most
// twice a second, and only when stderr is a terminal (quiet in pipes and CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace loadcast {

class Progress {
 public:
  // `total_bytes` < 0 when unknown (stdin): no ETA then.
  Progress(std::string label, int64_t total_bytes, bool enabled);
  // Counts `total` things named `unit` ("servers") instead of bytes: then
  // advance()'s first argument is how many of them are done.
  Progress(std::string label, int64_t total, std::string unit, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds to the counters; thread-safe.
  void advance(int64_t bytes, int64_t rows);
  void finish();

  static bool stderr_is_terminal();

 private:
  void draw(bool final);

  std::string label_;
  std::string unit_;  // empty: bytes
  int64_t total_bytes_;
  bool enabled_;
  std::mutex mutex_;
  int64_t bytes_ = 0;  // guarded by mutex_
  int64_t rows_ = 0;   // guarded by mutex_
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace loadcast
