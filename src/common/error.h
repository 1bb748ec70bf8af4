// Error policy of loadcast, in one place.
// Expected per-line and per-record problems are values (ingest reasons, HTTP
// 4xx bodies). Problems that end a command are thrown once as `Failure`, with
// the exit-code class of docs/errors.md, and turned into a message + exit code at the
// program boundary (app/loadcast.cpp) only.
#pragma once

#include <stdexcept>
#include <string>

namespace loadcast {

// Exit codes of docs/errors.md.
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,  // anything unexpected
  kUsage = 2,     // bad command line or configuration
  kData = 3,      // no input matched, no accepted rows, unreadable file
};

class Failure : public std::runtime_error {
 public:
  Failure(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

[[noreturn]] inline void fail_usage(const std::string& message) {
  throw Failure(ExitCode::kUsage, message);
}
[[noreturn]] inline void fail_data(const std::string& message) {
  throw Failure(ExitCode::kData, message);
}
[[noreturn]] inline void fail_internal(const std::string& message) {
  throw Failure(ExitCode::kInternal, message);
}

}  // namespace loadcast
