#include "serve/access_log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace loadcast::serve {
namespace {

// Written early when this much is pending, so a burst never grows the buffer far.
constexpr size_t kFlushBytes = 64u << 10;
constexpr auto kFlushInterval = std::chrono::milliseconds(200);

}  // namespace

AccessLog::AccessLog() : writer_([this] { run(); }) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void AccessLog::append(std::string_view line) {
  bool full;
  {
    std::lock_guard lock(mutex_);
    buffer_.append(line);
    full = buffer_.size() >= kFlushBytes;
  }
  if (full) wake_.notify_one();
}

void AccessLog::run() {
  std::string pending;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, kFlushInterval,
                   [this] { return stopping_ || buffer_.size() >= kFlushBytes; });
    pending.swap(buffer_);
    const bool last = stopping_;
    lock.unlock();
    write_out(pending);
    pending.clear();
    if (last) return;
    lock.lock();
  }
}

void AccessLog::write_out(std::string& pending) {
  size_t done = 0;
  while (done < pending.size()) {
    const ssize_t n = ::write(STDERR_FILENO, pending.data() + done, pending.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr is gone; the log is best effort
    done += static_cast<size_t>(n);
  }
}

}  // namespace loadcast::serve
