// How a command runs on the ranks of a job (one process, or mpirun -np N):
// failures that every rank reaches together are reported once by rank 0;
// any other failure on one rank ends the whole job through
// Communicator::abort, so no rank is left waiting in a collective.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"
#include "dist/communicator.h"

namespace loadcast::dist {

// A failure every rank throws at the same point (decided on rank 0, or from
// reduced values), so that no abort is needed.
class CollectiveFailure : public Failure {
 public:
  using Failure::Failure;
};

// Ends every rank of the job: Communicator::abort, as a plain function that
// the compiler knows does not return.
[[noreturn]] void abort_job(Communicator& comm, const std::string& message, ExitCode code);

// Runs `body` (returning an exit code). On one rank, failures propagate as
// usual. On several, rank 0 prints a CollectiveFailure as the program does
// ("loadcast COMMAND: error: ...") and every rank returns its exit code
// after a barrier: a rank that exited first could make mpirun end rank 0
// before it printed. Any other exception aborts the job with a message
// naming the rank, the command and the error.
template <class Body>
int run_job(Communicator& comm, std::string_view command, Body&& body) {
  if (comm.size() == 1) return body();
  try {
    return body();
  } catch (const CollectiveFailure& failure) {
    if (comm.rank() == 0) {
      std::fprintf(stderr, "loadcast %.*s: error: %s\n", static_cast<int>(command.size()),
                   command.data(), failure.what());
      std::fflush(stderr);
    }
    comm.barrier();
    return static_cast<int>(failure.code());
  } catch (const Failure& failure) {
    abort_job(comm, std::string(command) + ": error: " + failure.what(), failure.code());
  } catch (const std::exception& e) {
    abort_job(comm, std::string(command) + ": internal error: " + e.what(), ExitCode::kInternal);
  }
}

// Runs `decide` on rank 0 alone and returns its result on every rank; when
// it throws a Failure, every rank throws it as a CollectiveFailure.
nlohmann::json decide_on_root(Communicator& comm, const std::function<nlohmann::json()>& decide);

// Worker threads per rank by default: the cores shared among the ranks that
// mpirun placed on this node (OMPI_COMM_WORLD_LOCAL_SIZE), at least one.
int default_threads();

// etl's memory limit per rank by default: half of the memory of this
// machine (or of its cgroup, when that is less), shared like the cores.
uint64_t default_memory_limit();

// A named step of a job where a rank may be made to fail (common/faults.h,
// point "rank"): it throws, or dies of SIGKILL like a crashed node. Does
// nothing unless a test installed FaultPoints.
void fault_point(const Communicator& comm, std::string_view step);

}  // namespace loadcast::dist
