// The MPI communicator on 1 to 4 ranks. Run by ctest as a plain process, each
// test starts itself again under mpirun (see support/mpirun.h), and the ranks
// do the work; so the collectives really run in every ctest run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "support/mpirun.h"

namespace loadcast::dist {
namespace {

TEST(MpiCommunicator, CollectivesAgreeAcrossRanks) {
  if (!testing::inside_mpirun()) return testing::launch_on_ranks({1, 2, 3, 4});
  auto comm = make_communicator();
  const int n = comm->size();
  const int me = comm->rank();
  ASSERT_EQ(n, std::atoi(std::getenv("OMPI_COMM_WORLD_SIZE")));

  std::vector<std::int64_t> ints{me, 1};
  comm->allreduce_sum(ints);
  EXPECT_EQ(ints[0], static_cast<std::int64_t>(n) * (n - 1) / 2);
  EXPECT_EQ(ints[1], n);
  std::vector<double> reals{0.5};
  comm->allreduce_sum(reals);
  EXPECT_EQ(reals[0], 0.5 * n);

  // Rank me sends (me, r) repeated r + 1 times to rank r; nothing to itself.
  std::vector<Bytes> send(n);
  for (int r = 0; r < n; ++r)
    if (r != me) send[r].assign(r + 1, static_cast<std::uint8_t>(me * 16 + r));
  auto got = comm->alltoallv(send);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int s = 0; s < n; ++s)
    EXPECT_EQ(got[s], s == me ? Bytes{} : Bytes(me + 1, static_cast<std::uint8_t>(s * 16 + me)));

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

TEST(MpiCommunicator, AbortEndsEveryRankWithItsCode) {
  if (!testing::inside_mpirun()) {
    const std::string reason = testing::mpi_unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    std::string output;
    // Rank 1 aborts while rank 0 waits in a barrier that never completes.
    EXPECT_EQ(testing::rerun_current_test_on_ranks(2, &output), 4) << output;
    EXPECT_NE(output.find("loadcast: rank 1: give up"), std::string::npos) << output;
    return;
  }
  auto comm = make_communicator();
  if (comm->rank() == 1) comm->abort("give up", 4);
  comm->barrier();
  ADD_FAILURE() << "rank " << comm->rank() << " got past the barrier";
}

}  // namespace
}  // namespace loadcast::dist
