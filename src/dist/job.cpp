#include "dist/job.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <thread>

#include "common/faults.h"

namespace loadcast::dist {

void abort_job(Communicator& comm, const std::string& message, ExitCode code) {
  comm.abort(message, static_cast<int>(code));
  std::terminate();  // not reached; [[noreturn]] on a virtual call is not seen by the compiler
}

nlohmann::json decide_on_root(Communicator& comm, const std::function<nlohmann::json()>& decide) {
  if (comm.size() == 1) return decide();
  nlohmann::json message;
  if (comm.rank() == 0) {
    try {
      message = {{"ok", decide()}};
    } catch (const Failure& failure) {
      message = {{"error", failure.what()}, {"code", static_cast<int>(failure.code())}};
    }
  }
  const std::string text = message.dump();
  const Bytes got = comm.broadcast(Bytes(text.begin(), text.end()), 0);
  message = nlohmann::json::parse(got.begin(), got.end());
  if (message.contains("error"))
    throw CollectiveFailure(static_cast<ExitCode>(message["code"].get<int>()),
                            message["error"].get<std::string>());
  return message["ok"];
}

namespace {

// The ranks that mpirun placed on this node.
int ranks_on_this_node() {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return local ? std::max(1, std::atoi(local)) : 1;
}

}  // namespace

int default_threads() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / ranks_on_this_node());
}

uint64_t default_memory_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  uint64_t memory = pages > 0 && page_size > 0
                        ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size)
                        : uint64_t{4} << 30;
  // A container's limit (cgroup v2), when there is one.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::string text;
  if (cgroup >> text && text != "max") {
    try {
      memory = std::min<uint64_t>(memory, std::stoull(text));
    } catch (const std::exception&) {
    }
  }
  const uint64_t share = memory / 2 / static_cast<uint64_t>(ranks_on_this_node());
  return std::max<uint64_t>(share & ~((uint64_t{1} << 20) - 1), uint64_t{64} << 20);  // whole MiB
}

void fault_point(const Communicator& comm, std::string_view step) {
  if (fault_at("rank", step, comm.rank()) != Fault::kNone)
    fail_internal("injected failure at '" + std::string(step) + "'");
}

}  // namespace loadcast::dist
