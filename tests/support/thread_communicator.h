// N ranks as N threads of one test process: a Communicator whose collectives
// go through shared memory, so distributed code paths (encoder fit, forest
// histograms, metrics) can be checked against one rank without mpirun and
// under the sanitizers.
#pragma once

#include <functional>

#include "dist/communicator.h"

namespace loadcast::testing {

// Runs body(comm) on `ranks` threads, each with its own rank's communicator,
// and rethrows the first exception once all threads have ended.
// REQUIRES: every rank makes the same collective calls in the same order
// (as under MPI); abort() throws instead of ending the process.
void run_ranks(int ranks, const std::function<void(dist::Communicator&)>& body);

}  // namespace loadcast::testing
