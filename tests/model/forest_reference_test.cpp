// Fixed inputs, their ETL and forests grown on them: the bytes of the
// encoder and of the forest are pinned by their SHA-256, taken from the
// trainer on the dense one-hot matrix (before the compact training set, the
// feature schema, the thread pool and the parameter declarations). A trainer
// that grows other trees (another split, threshold or count) fails here.
#include <gtest/gtest.h>

#include <string>

#include "common/sha256.h"
#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

struct Pinned {
  std::string forest;
  std::string encoder;
};

// Runs etl, then train with 1 and 2 threads, on `config`; both bundles
// must hold the pinned bytes.
void expect_pinned_bytes(const std::filesystem::path& config, const std::filesystem::path& dir,
                         const Pinned& pinned) {
  const std::string args = config.string() + " --output " + (dir / "out").string() +
                           " --workspace " + (dir / "ws").string();
  auto etl = testing::run_program("etl " + args);
  ASSERT_EQ(etl.exit_code, 0) << etl.output;
  for (const char* threads : {"1", "2"}) {
    auto train = testing::run_program("train " + args + " --threads " + threads);
    ASSERT_EQ(train.exit_code, 0) << train.output;
    EXPECT_EQ(sha256_file(dir / "out/model/forest.json").sha256, pinned.forest)
        << threads << " threads";
    EXPECT_EQ(sha256_file(dir / "out/model/encoder.json").sha256, pinned.encoder)
        << threads << " threads";
  }
}

// A month generated with `generate_options`, and 20 trees of depth 6.
void expect_generated_case_bytes(const std::string& generate_options, const Pinned& pinned) {
  testing::TempDir temp;
  std::string log;
  ASSERT_EQ(testing::write_generated_case(temp.path(), generate_options + " --threads 2",
                                          R"("forest": {"numTrees": 20, "maxDepth": 6, "seed": 9})",
                                          &log),
            0)
      << log;
  expect_pinned_bytes(temp.path() / "config.json", temp.path(), pinned);
}

TEST(ForestReference, TheFixedMonthGrowsTheSameForestBytes) {
  expect_generated_case_bytes("--size 6M --seed 17 --servers 30",
                              {"322a15c491cf40c33b60bb0a9d7c8ad88bb6e2e1c0604cc96158b09776dac6f1",
                               "08ca7921795d957f69c7aadf7b2f2c98595905cf742cf75096b4c1a98cab17b6"});
}

// 300 servers: the ServerIP block takes two-byte codes.
TEST(ForestReference, AFleetOfThreeHundredServersGrowsTheSameForestBytes) {
  expect_generated_case_bytes("--size 12M --seed 23 --servers 300",
                              {"2d927b48b2e5b2231d6a94a63455e8d7c79cd7be8cdcb532f23f32a300671cbc",
                               "18479e26a856c73fea1f83e1b34a91533b978de7c9b332f62d221e1b25e8f0e6"});
}

TEST(ForestReference, TheGoldenCaseGrowsTheSameForestBytes) {
  testing::TempDir temp;
  expect_pinned_bytes(std::filesystem::path(LOADCAST_GOLDEN_DIR) / "config.json", temp.path(),
                      {"3df385c6275ed6fe66310e1fdca1d06371f9f4f041de115c115f384d376a0218",
                       "9aad0d0a109fff46e96e3f0f6f88b20157ac0fe1f37cdc7d287799fa21a460d8"});
}

}  // namespace
}  // namespace loadcast
