#include "common/faults.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>

namespace loadcast {

namespace {

std::atomic<FaultPoints*> g_points{nullptr};

}  // namespace

void install_fault_points(FaultPoints* points) { g_points.store(points); }

Fault fault_at(std::string_view point, std::string_view target, int rank) {
  FaultPoints* points = g_points.load();
  if (!points) return Fault::kNone;
  const Fault fault = points->at(point, target, rank);
  if (fault == Fault::kKill) std::raise(SIGKILL);
  return fault;
}

size_t write_checked(std::FILE* file, const void* data, size_t size, const std::string& path) {
  switch (fault_at("write", path)) {
    case Fault::kNoSpace:
      errno = ENOSPC;
      return 0;
    case Fault::kShortWrite: {
      const size_t half = std::fwrite(data, 1, size / 2, file);
      errno = ENOSPC;
      return half < size ? half : size - 1;
    }
    default:
      return std::fwrite(data, 1, size, file);
  }
}

}  // namespace loadcast
