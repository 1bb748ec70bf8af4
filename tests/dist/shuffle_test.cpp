// The ETL shuffle: owners agree on every rank, and N ranks merge the partial
// aggregates into sums bit-identical to one process merging them in order.
#include "dist/shuffle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "common/hash.h"
#include "support/mpirun.h"

namespace loadcast::dist {
namespace {

const std::vector<std::string> kIpv6 = {"2001:db8::7", "fe80::1", "2001:db8:0:0:1::9",
                                        "::ffff:1.2.3.4"};

// Chunk c's partial: deterministic, overlapping buckets across chunks, with
// sums whose order of addition shows in the last bits; IPv6 servers get this
// rank's dictionary ids (which differ between ranks).
ChunkPartial make_partial(uint64_t c, ServerDictionary& servers) {
  ChunkPartial p{c, BucketTable(64)};
  for (int i = 0; i < 40; ++i) {
    const uint64_t h = mix64(c * 1000 + static_cast<uint64_t>(i));
    const ServerKey server =
        h % 5 == 0 ? servers.key_for(kIpv6[h % kIpv6.size()]) : ServerKey{0x0a000000u + h % 23};
    BucketSums& s = p.table.at(pack_bucket_key(server, static_cast<int64_t>(h >> 40) % 7));
    for (int m = 0; m < kNumMeasures; ++m)
      s.sum[m] += 0.1 * static_cast<double>((h >> (m * 4)) % 97) + 1e-7 * c;
    s.sessions += 1;
  }
  return p;
}

using Reference = std::map<std::pair<std::string, int64_t>, BucketSums>;

Reference by_text(const BucketTable& table, const ServerDictionary& servers) {
  Reference out;
  for (const auto& e : table.entries())
    out[{servers.text_of(key_server(e.key)), key_bucket(e.key)}] = e.sums;
  return out;
}

void expect_identical(const BucketSums& a, const BucketSums& b, const std::string& where) {
  EXPECT_EQ(a.sessions, b.sessions) << where;
  for (int m = 0; m < kNumMeasures; ++m)
    EXPECT_EQ(a.sum[m], b.sum[m]) << where << " measure " << m;  // bit for bit
}

TEST(PartialShuffle, OwnersAreStableAndSpread) {
  std::set<int> used;
  for (int i = 0; i < 64; ++i) {
    const std::string ip = "10.0.0." + std::to_string(i);
    const int owner = owner_rank(ip, 4);
    ASSERT_GE(owner, 0);
    ASSERT_LT(owner, 4);
    used.insert(owner);
  }
  EXPECT_EQ(used.size(), 4u);
  for (const auto& ip : kIpv6) {
    EXPECT_LT(owner_rank(ip, 3), 3);
    EXPECT_EQ(owner_rank(ip, 1), 0);
  }
}

TEST(PartialShuffle, OneRankMergesEveryPartial) {
  auto comm = make_local_communicator();
  ServerDictionary servers;
  BoundedAggregate aggregate(size_t{1} << 30, [] { return std::filesystem::path(); });
  BucketTable reference;
  PartialShuffle shuffle(*comm, servers, aggregate);
  std::vector<ChunkPartial> round;
  for (uint64_t c = 0; c < 6; ++c) round.push_back(make_partial(c, servers));
  shuffle.exchange(round);
  for (const auto& p : round) reference.merge_from(p.table);
  const BucketTable& owned = aggregate.table();
  EXPECT_EQ(by_text(owned, servers).size(), reference.size());
  const Reference expected = by_text(reference, servers);
  for (const auto& [key, sums] : by_text(owned, servers))
    expect_identical(sums, expected.at(key), key.first);
  EXPECT_EQ(shuffle.bytes_sent(), 0);
}

TEST(PartialShuffle, RanksMergeBitIdenticalToOneProcess) {
  if (!testing::inside_mpirun()) return testing::launch_on_ranks({2, 3});
  auto comm = make_communicator();
  const int n = comm->size();
  const int me = comm->rank();
  ServerDictionary servers;
  // Different dictionary ids on every rank.
  for (int i = 0; i <= me; ++i) servers.key_for("2001:db8::100:" + std::to_string(i));

  // The pipeline's order: chunk c belongs to rank c mod n, rounds of k
  // chunks per rank; 19 chunks leave the last round uneven.
  const uint64_t chunks = 19, k = 2;
  BoundedAggregate aggregate(size_t{1} << 30, [] { return std::filesystem::path(); });
  PartialShuffle shuffle(*comm, servers, aggregate);
  for (uint64_t round_start = 0; round_start < chunks;
       round_start += k * static_cast<uint64_t>(n)) {
    std::vector<ChunkPartial> round;
    for (uint64_t c = round_start; c < std::min(chunks, round_start + k * n); ++c)
      if (c % static_cast<uint64_t>(n) == static_cast<uint64_t>(me))
        round.push_back(make_partial(c, servers));
    shuffle.exchange(round);
  }

  BucketTable single;
  for (uint64_t c = 0; c < chunks; ++c) single.merge_from(make_partial(c, servers).table);
  const Reference expected = by_text(single, servers);
  const Reference mine = by_text(aggregate.table(), servers);
  for (const auto& [key, sums] : mine) {
    EXPECT_EQ(owner_rank(key.first, n), me) << key.first;
    ASSERT_TRUE(expected.count(key)) << key.first;
    expect_identical(sums, expected.at(key), key.first + " rank " + std::to_string(me));
  }
  std::vector<int64_t> total = {static_cast<int64_t>(mine.size())};
  comm->allreduce_sum(total);
  EXPECT_EQ(total[0], static_cast<int64_t>(expected.size()));
  EXPECT_GT(shuffle.bytes_sent(), 0);
}

}  // namespace
}  // namespace loadcast::dist
