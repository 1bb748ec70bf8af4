#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"
#include "dist/communicator.h"

namespace loadcast::dist {
namespace {

TEST(LocalCommunicator, IsOneRankAndCollectivesAreIdentity) {
  auto comm = make_local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  comm->barrier();

  std::vector<std::int64_t> ints{1, -2, 3};
  comm->allreduce_sum(ints);
  EXPECT_EQ(ints, (std::vector<std::int64_t>{1, -2, 3}));
  std::vector<double> reals{0.5, 1e300};
  comm->allreduce_sum(reals);
  EXPECT_EQ(reals, (std::vector<double>{0.5, 1e300}));

  const Bytes payload{1, 2, 3};
  EXPECT_EQ(comm->alltoallv({payload}), std::vector<Bytes>{payload});
  EXPECT_EQ(comm->gather(payload, 0), std::vector<Bytes>{payload});
  EXPECT_EQ(comm->broadcast(payload, 0), payload);
}

TEST(LocalCommunicator, RejectsRanksThatDoNotExist) {
  auto comm = make_local_communicator();
  EXPECT_THROW(comm->gather({}, 1), Failure);
  EXPECT_THROW(comm->broadcast({}, 2), Failure);
  EXPECT_THROW(comm->alltoallv({{}, {}}), Failure);
}

TEST(LocalCommunicatorDeathTest, AbortPrintsAndExitsNonZero) {
  auto comm = make_local_communicator();
  EXPECT_EXIT(comm->abort("rank 0 failed: boom", 3), ::testing::ExitedWithCode(3),
              "rank 0 failed: boom");
}

}  // namespace
}  // namespace loadcast::dist
