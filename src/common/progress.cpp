#include "common/progress.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace loadcast {

Progress::Progress(std::string label, int64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::Progress(std::string label, int64_t total, std::string unit, bool enabled)
    : Progress(std::move(label), total, enabled) {
  unit_ = std::move(unit);
}

Progress::~Progress() { finish(); }

bool Progress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void Progress::advance(int64_t bytes, int64_t rows) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  bytes_ += bytes;
  rows_ += rows;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(500)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (!enabled_ || !drawn_) return;
  std::lock_guard lock(mutex_);
  draw(true);
  drawn_ = false;
}

void Progress::draw(bool final) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double mb = static_cast<double>(bytes_) / 1e6;
  const double rate = seconds > 0 ? static_cast<double>(rows_) / seconds : 0;
  char eta[64] = "";
  if (total_bytes_ > 0 && bytes_ > 0 && !final) {
    const double left =
        seconds * static_cast<double>(total_bytes_ - bytes_) / static_cast<double>(bytes_);
    std::snprintf(eta, sizeof eta, ", %.0f%%, ETA %.0f s",
                  100.0 * static_cast<double>(bytes_) / static_cast<double>(total_bytes_), left);
  }
  if (unit_.empty()) {
    std::fprintf(stderr, "\r%s: %.1f MB, %.2f M rows/s, %.0f MB/s%s\033[K%s", label_.c_str(), mb,
                 rate / 1e6, seconds > 0 ? mb / seconds : 0.0, eta, final ? "\n" : "");
  } else {
    std::fprintf(stderr, "\r%s: %lld of %lld %s, %.0f rows/s%s\033[K%s", label_.c_str(),
                 static_cast<long long>(bytes_), static_cast<long long>(total_bytes_),
                 unit_.c_str(), rate, eta, final ? "\n" : "");
  }
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace loadcast
