#include "support/mpirun.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "dist/communicator.h"

namespace loadcast::testing {

bool inside_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

std::string mpi_unavailable_reason() {
  if (!dist::built_with_mpi()) return "this build has no MPI (libopenmpi-dev not found by CMake)";
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0)
    return "mpirun is not installed (openmpi-bin)";
  return "";
}

std::string mpirun_prefix(int np) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "ASAN_OPTIONS=detect_leaks=0 "
         "timeout -k 10 300 mpirun --oversubscribe -np " +
         std::to_string(np) + " ";
}

int rerun_current_test_on_ranks(int np, std::string* output) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  return run_shell(
      mpirun_prefix(np) + self + " --gtest_filter=" + test->test_suite_name() + "." + test->name(),
      output);
}

void launch_on_ranks(std::initializer_list<int> rank_counts) {
  const std::string reason = mpi_unavailable_reason();
  if (!reason.empty()) GTEST_SKIP() << reason;
  for (int np : rank_counts) {
    std::string output;
    EXPECT_EQ(rerun_current_test_on_ranks(np, &output), 0) << "np " << np << ":\n" << output;
    size_t passed = 0;
    for (size_t at = output.find("[       OK ]"); at != std::string::npos;
         at = output.find("[       OK ]", at + 1))
      ++passed;
    EXPECT_EQ(passed, static_cast<size_t>(np)) << "np " << np << ": not every rank passed:\n"
                                               << output;
  }
}

}  // namespace loadcast::testing
