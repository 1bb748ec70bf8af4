// The access log of the HTTP server: one JSON line per request on stderr.
// Lines are gathered in memory and written by a background thread a few
// times a second, so a request costs an append under a short lock rather
// than a locked, unbuffered write to stderr.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace loadcast::serve {

class AccessLog {
 public:
  AccessLog();
  ~AccessLog();  // writes what is left
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void append(std::string_view line);

 private:
  void run();
  void write_out(std::string& pending);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::string buffer_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace loadcast::serve
