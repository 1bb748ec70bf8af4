// BoundedAggregate: whatever the budget and the order of the input, every
// server's buckets read back from the spill runs add up to exactly (bit for
// bit) the sums of the one in-memory table, merged in the same chunk order.
#include "aggregate/spill.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "common/error.h"
#include "support/csv.h"

namespace loadcast {
namespace {

using Entry = BucketTable::Entry;

// Chunks of partial sums: `servers` servers over `buckets` buckets, values
// with fractions (so that the order of additions shows in the last bits),
// in time order or shuffled.
std::vector<BucketTable> make_chunks(int chunks, int servers, int buckets, bool shuffled,
                                     uint32_t seed) {
  std::mt19937_64 random(seed);
  std::vector<BucketTable> out;
  for (int c = 0; c < chunks; ++c) {
    BucketTable table(16);
    for (int line = 0; line < 200; ++line) {
      const ServerKey server = line % 7 == 0
                                   ? (kDictionaryServerBit | static_cast<ServerKey>(random() % 3))
                                   : static_cast<ServerKey>(0x0a000000 + random() % servers);
      const int64_t bucket = shuffled ? static_cast<int64_t>(random() % buckets)
                                      : (c * buckets) / chunks + static_cast<int64_t>(random() % 3);
      BucketSums& sums = table.at(pack_bucket_key(server, 1000000 + bucket));
      for (double& v : sums.sum) v += static_cast<double>(random() % 100000) / 7.0;
      ++sums.sessions;
    }
    out.push_back(std::move(table));
  }
  return out;
}

// server -> its buckets, as the features stage sees them.
using Buckets = std::map<ServerKey, std::vector<ServerBucket>>;

Buckets in_memory(const std::vector<BucketTable>& chunks) {
  BucketTable all;
  for (const auto& c : chunks) all.merge_from(c);
  Buckets out;
  for (const Entry& e : all.entries())
    out[key_server(e.key)].push_back({key_bucket(e.key), e.sums});
  for (auto& [server, buckets] : out)
    std::sort(buckets.begin(), buckets.end(),
              [](const auto& a, const auto& b) { return a.bucket < b.bucket; });
  return out;
}

void expect_identical(const Buckets& actual, const Buckets& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [server, buckets] : expected) {
    const auto& got = actual.at(server);
    ASSERT_EQ(got.size(), buckets.size()) << server;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].bucket, buckets[i].bucket);
      ASSERT_EQ(got[i].sums.sessions, buckets[i].sums.sessions);
      ASSERT_EQ(
          std::memcmp(got[i].sums.sum.data(), buckets[i].sums.sum.data(), sizeof(got[i].sums.sum)),
          0)
          << "server " << server << " bucket " << got[i].bucket;
    }
  }
}

struct Spilled {
  Buckets buckets;
  int64_t runs = 0;
  int64_t logged = 0;
};

Spilled through_budget(const std::vector<BucketTable>& chunks, size_t budget,
                       const std::filesystem::path& folder) {
  BoundedAggregate aggregate(budget, [&] {
    std::filesystem::create_directories(folder);
    return folder;
  });
  for (size_t c = 0; c < chunks.size(); ++c) {
    // Half the chunks as whole tables, half entry by entry (as from ranks).
    if (c % 2 == 0) {
      aggregate.add(chunks[c]);
    } else {
      for (const Entry& e : chunks[c].entries()) aggregate.add(e);
    }
  }
  aggregate.finish();
  Spilled out;
  if (!aggregate.spilled()) {
    for (const Entry& e : aggregate.table().entries())
      out.buckets[key_server(e.key)].push_back({key_bucket(e.key), e.sums});
    for (auto& [server, buckets] : out.buckets)
      std::sort(buckets.begin(), buckets.end(),
                [](const auto& a, const auto& b) { return a.bucket < b.bucket; });
    return out;
  }
  const SpillRuns& runs = aggregate.runs();
  std::vector<Entry> raw;
  for (const ServerKey server : runs.servers()) {
    runs.read(server, raw);
    EXPECT_EQ(runs.extent(server).entries, raw.size());
    replay(raw, out.buckets[server]);
  }
  out.runs = runs.runs();
  out.logged = aggregate.logged_entries();
  return out;
}

TEST(BoundedAggregate, AnyBudgetGivesTheSumsOfTheTableBitForBit) {
  testing::TempDir temp;
  for (const bool shuffled : {false, true}) {
    const auto chunks = make_chunks(60, 40, 3000, shuffled, shuffled ? 7 : 8);
    const Buckets expected = in_memory(chunks);
    int64_t previous_runs = 0;
    for (const size_t budget :
         {size_t{1} << 30, size_t{1} << 20, size_t{64} << 10, size_t{4} << 10, size_t{0}}) {
      SCOPED_TRACE((shuffled ? "shuffled, budget " : "in time order, budget ") +
                   std::to_string(budget));
      const auto folder = temp.path() / (std::to_string(shuffled) + "-" + std::to_string(budget));
      const Spilled got = through_budget(chunks, budget, folder);
      expect_identical(got.buckets, expected);
      if (budget == size_t{1} << 30) {
        EXPECT_EQ(got.runs, 0);
      }
      if (budget <= size_t{64} << 10) {
        EXPECT_GT(got.runs, previous_runs);
      }
      previous_runs = got.runs;
      // Shuffled input sends late contributions to the log; ordered input
      // (buckets of a chunk overlap the next by a little) hardly any.
      if (shuffled && budget <= size_t{64} << 10) {
        EXPECT_GT(got.logged, 0);
      }
    }
  }
}

TEST(BoundedAggregate, WithinTheBudgetTheChunksAreKeptAsTheyCameAndAddUpToTheTable) {
  const auto chunks = make_chunks(30, 40, 3000, true, 5);
  BoundedAggregate aggregate(size_t{1} << 30, [] { return std::filesystem::path(); });
  size_t arrived = 0;
  for (const auto& c : chunks) {
    aggregate.add(c);
    arrived += c.size();
  }
  aggregate.finish();
  ASSERT_FALSE(aggregate.spilled());
  // Nothing summed yet; added up from zero in the order they are kept:
  // the table's sums.
  std::map<uint64_t, BucketSums> summed;
  aggregate.with_entries([&](const auto& entries) {
    ASSERT_EQ(entries.size(), arrived);
    for (size_t at = 0; at < entries.end(); at = entries.next(at))
      entries.add_to(at, summed[entries.key(at)]);
  });
  Buckets got;
  for (const auto& [key, sums] : summed) got[key_server(key)].push_back({key_bucket(key), sums});
  expect_identical(got, in_memory(chunks));
  EXPECT_LT(aggregate.table().size(), arrived);  // shuffled chunks share buckets
  aggregate.with_entries(
      [&](const auto& entries) { EXPECT_EQ(entries.size(), aggregate.table().size()); });
}

TEST(BoundedAggregate, TimeOrderedInputSpillsEachBucketOnce) {
  testing::TempDir temp;
  std::vector<BucketTable> chunks;
  for (int c = 0; c < 40; ++c) {
    BucketTable table(16);
    for (int b = 0; b < 100; ++b)
      for (ServerKey s = 1; s <= 5; ++s) table.at(pack_bucket_key(s, c * 100 + b)).sum[0] += 1.5;
    chunks.push_back(std::move(table));
  }
  const Spilled got = through_budget(chunks, size_t{96} << 10, temp.path() / "runs");
  expect_identical(got.buckets, in_memory(chunks));
  EXPECT_GT(got.runs, 2);
  EXPECT_EQ(got.logged, 0);
}

TEST(BoundedAggregate, AnUnwritableSpillFolderIsADataErrorNamingTheFile) {
  testing::TempDir temp;
  const auto chunks = make_chunks(20, 10, 500, true, 3);
  BoundedAggregate aggregate(4 << 10, [&] { return temp.path() / "no-such-folder"; });
  try {
    for (const auto& c : chunks) aggregate.add(c);
    aggregate.finish();
    FAIL() << "spilling into a missing folder succeeded";
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kData);
    EXPECT_NE(std::string(failure.what()).find("runs.zst"), std::string::npos) << failure.what();
  }
}

}  // namespace
}  // namespace loadcast
