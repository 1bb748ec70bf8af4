// Running programs under mpirun in tests, on this machine and in CI: as root
// (OpenMPI refuses without two variables), oversubscribed (2 cores), bounded
// in time (a rank that fails an assertion can leave the others waiting in a
// collective), and without LeakSanitizer in the ranks: its stop-the-world
// tracer crashes now and then at the exit of OpenMPI processes, whose
// progress threads are still alive. The same code is leak-checked in the
// single-process tests that run ranks as threads (EtlOnRanks, ForestRanks).
#pragma once

#include <initializer_list>
#include <string>

#include "support/program.h"  // run_shell

namespace loadcast::testing {

// Whether this process is a rank started by mpirun.
bool inside_mpirun();

// Why MPI tests cannot run here, or "" when they can.
std::string mpi_unavailable_reason();

// The shell words that start `np` ranks of the program that follows them.
std::string mpirun_prefix(int np);

// Runs the current test again in `np` ranks of this test binary; returns
// mpirun's exit status, with every rank's output in `output`.
int rerun_current_test_on_ranks(int np, std::string* output);

// For a test whose body runs on MPI ranks, called when this process is not
// one: runs the test on each of `rank_counts` ranks and expects every rank
// to pass it (not skip it). Skips when MPI is unavailable.
void launch_on_ranks(std::initializer_list<int> rank_counts);

}  // namespace loadcast::testing
