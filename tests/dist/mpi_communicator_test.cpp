// Runs this test binary under mpirun: the launcher test starts N ranks that
// each run MpiCommunicator.CollectivesAgreeAcrossRanks, which only does work
// when launched by mpirun.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace loadcast::dist {
namespace {

TEST(MpiCommunicator, CollectivesAgreeAcrossRanks) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) GTEST_SKIP() << "runs only inside mpirun";
  auto comm = make_communicator();
  const int n = comm->size();
  const int me = comm->rank();

  std::vector<std::int64_t> ints{me, 1};
  comm->allreduce_sum(ints);
  EXPECT_EQ(ints[0], static_cast<std::int64_t>(n) * (n - 1) / 2);
  EXPECT_EQ(ints[1], n);
  std::vector<double> reals{0.5};
  comm->allreduce_sum(reals);
  EXPECT_EQ(reals[0], 0.5 * n);

  // Rank me sends (me, r) repeated r + 1 times to rank r.
  std::vector<Bytes> send(n);
  for (int r = 0; r < n; ++r) send[r].assign(r + 1, static_cast<std::uint8_t>(me * 16 + r));
  auto got = comm->alltoallv(send);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int s = 0; s < n; ++s) EXPECT_EQ(got[s], Bytes(me + 1, static_cast<std::uint8_t>(s * 16 + me)));

  auto gathered = comm->gather(Bytes(me, static_cast<std::uint8_t>(me)), 0);
  if (me == 0) {
    ASSERT_EQ(gathered.size(), static_cast<std::size_t>(n));
    for (int s = 0; s < n; ++s) EXPECT_EQ(gathered[s], Bytes(s, static_cast<std::uint8_t>(s)));
  } else {
    EXPECT_TRUE(gathered.empty());
  }
  EXPECT_EQ(comm->broadcast(me == 0 ? Bytes{7, 8, 9} : Bytes{}, 0), (Bytes{7, 8, 9}));
  comm->barrier();
}

int run_under_mpirun(int np) {
  const std::string cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 "
                          "mpirun --oversubscribe -np " + std::to_string(np) +
                          " " + std::filesystem::read_symlink("/proc/self/exe").string() +
                          " --gtest_filter=MpiCommunicator.CollectivesAgreeAcrossRanks"
                          " > /dev/null 2>&1";
  return std::system(cmd.c_str());
}

TEST(MpiLauncher, CollectivesOnOneToFourRanks) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) GTEST_SKIP() << "already inside mpirun";
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  for (int np = 1; np <= 4; ++np) EXPECT_EQ(run_under_mpirun(np), 0) << "np " << np;
}

}  // namespace
}  // namespace loadcast::dist
