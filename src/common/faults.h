// Failure points, in the manner of LevelDB's fault-injecting Env: the output
// writers, the staging directory and the job's ranks ask at named points
// whether to fail there, so that tests can make a disk fill up, a write come
// up short or a rank die at a chosen moment. A program that installs no
// FaultPoints (every loadcast binary) never fails at them: no environment
// variable or output text decides a failure.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace loadcast {

enum class Fault {
  kNone,
  kNoSpace,     // a write fails as on a full disk (ENOSPC)
  kShortWrite,  // a write puts half its bytes down, then fails as on a full disk
  kError,       // the step fails with an error
  kKill,        // the process dies of SIGKILL, as a crashed node
};

// The points where the program may be made to fail:
//   "write"   target: the file being written (table parts, summary, bundle files)
//   "commit"  target: the output folder a staged directory replaces
//   "rank"    target: a step of a job ("shuffle", "write", "train-forest")
//   "upload"  target: the blob being written to a blob output
class FaultPoints {
 public:
  virtual ~FaultPoints() = default;
  // How `rank` fails at `point` for `target`, if at all. Called from any thread.
  virtual Fault at(std::string_view point, std::string_view target, int rank) = 0;
};

// Installs `points` for the whole process (null: none). For tests and test
// programs; REQUIRES: no work is running.
void install_fault_points(FaultPoints* points);

// The fault at this point, kNone when no FaultPoints are installed.
Fault fault_at(std::string_view point, std::string_view target, int rank = 0);

// Writes `size` bytes of `data` to `file` as fwrite does, unless the
// "write" point for `path` says otherwise: returns the bytes written, and
// sets errno on a failure (ENOSPC for an injected one).
size_t write_checked(std::FILE* file, const void* data, size_t size, const std::string& path);

}  // namespace loadcast
