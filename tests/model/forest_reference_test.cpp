// A fixed generated month, its ETL and a forest grown on it: the bytes of
// the feature table's encoder and of the forest are pinned by their SHA-256,
// taken from the forest trainer as it was before the feature schema, the
// thread pool and the parameter declarations. A trainer that grows other
// trees (another split, threshold or count) fails here.
#include <gtest/gtest.h>

#include <string>

#include "common/sha256.h"
#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

TEST(ForestReference, TheFixedMonthGrowsTheSameForestBytes) {
  testing::TempDir temp;
  std::string log;
  ASSERT_EQ(testing::write_generated_case(
                temp.path(), "--size 6M --seed 17 --servers 30 --threads 2",
                R"("forest": {"numTrees": 20, "maxDepth": 6, "seed": 9})", &log),
            0)
      << log;
  const std::string args = (temp.path() / "config.json").string() + " --output " +
                           (temp.path() / "out").string() + " --workspace " +
                           (temp.path() / "ws").string();
  auto etl = testing::run_program("etl " + args);
  ASSERT_EQ(etl.exit_code, 0) << etl.output;
  for (const char* threads : {"1", "2"}) {
    auto train = testing::run_program("train " + args + " --threads " + threads);
    ASSERT_EQ(train.exit_code, 0) << train.output;
    EXPECT_EQ(sha256_file(temp.path() / "out/model/forest.json").sha256,
              "322a15c491cf40c33b60bb0a9d7c8ad88bb6e2e1c0604cc96158b09776dac6f1")
        << threads << " threads";
    EXPECT_EQ(sha256_file(temp.path() / "out/model/encoder.json").sha256,
              "08ca7921795d957f69c7aadf7b2f2c98595905cf742cf75096b4c1a98cab17b6")
        << threads << " threads";
  }
}

}  // namespace
}  // namespace loadcast
