// BucketTable: whatever path a key takes in (the in-order one that skips
// the hash slots, or the slots), a key has one entry, and every look-up of
// it finds that entry.
#include "aggregate/bucket_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace loadcast {
namespace {

// Keys as a chunk's lines give them: each server's buckets mostly
// ascending, servers interleaved, now and then an earlier bucket again.
std::vector<uint64_t> chunk_keys(std::mt19937_64& random, int servers, int lines) {
  std::vector<int64_t> now(static_cast<size_t>(servers), 5000);
  std::vector<uint64_t> keys;
  for (int i = 0; i < lines; ++i) {
    const auto s = static_cast<size_t>(random() % static_cast<uint64_t>(servers));
    const ServerKey server = s % 5 == 0 ? (kDictionaryServerBit | s) : 0x0a000000 + s;
    const uint64_t roll = random() % 10;
    if (roll < 2) now[s] += 1 + static_cast<int64_t>(random() % 3);
    const int64_t bucket = roll == 9 ? now[s] - static_cast<int64_t>(random() % 20) : now[s];
    keys.push_back(pack_bucket_key(server, bucket));
  }
  return keys;
}

void expect_one_entry_per_key(BucketTable& table, const std::map<uint64_t, uint32_t>& seen) {
  ASSERT_EQ(table.size(), seen.size());
  for (const auto& [key, index] : seen) {
    EXPECT_EQ(table.entries()[index].key, key);
    EXPECT_EQ(table.find(key), index);
  }
}

TEST(BucketTable, KeysInTimeOrderOrNotGetOneEntryEach) {
  std::mt19937_64 random(3);
  BucketTable table(0);
  for (int round = 0; round < 4; ++round) {  // a table reused, as the chunks' are
    table.clear();
    std::map<uint64_t, uint32_t> seen;
    const auto keys = chunk_keys(random, 1 + round * 150, 20000);
    for (size_t i = 0; i < keys.size(); ++i) {
      // Now and then a key through the slots, which ends the in-order path.
      const bool through_slots = round == 3 && i > keys.size() / 2 && i % 7 == 0;
      const uint32_t index =
          through_slots ? table.index_of(keys[i]) : table.index_of_in_order(keys[i]);
      const auto [it, inserted] = seen.try_emplace(keys[i], index);
      ASSERT_EQ(it->second, index) << "key " << keys[i] << " moved";
      if (inserted) {
        ASSERT_EQ(index, seen.size() - 1) << "a key repeated";
      }
      ++table.entries()[index].sums.sessions;
    }
    expect_one_entry_per_key(table, seen);
    std::map<uint64_t, int64_t> lines;
    for (const uint64_t key : keys) ++lines[key];
    for (const auto& [key, count] : lines)
      EXPECT_EQ(table.entries()[seen.at(key)].sums.sessions, count);
  }
}

TEST(BucketTable, AppendedKeysAreFoundAfterMergingAndTruncating) {
  std::mt19937_64 random(5);
  BucketTable chunk(0);
  for (const uint64_t key : chunk_keys(random, 40, 5000)) ++chunk.at(key).sessions;
  BucketTable in_order(0);
  for (const uint64_t key : chunk_keys(random, 40, 5000))
    ++in_order.entries()[in_order.index_of_in_order(key)].sums.sessions;
  BucketTable merged(16);
  merged.merge_from(chunk);
  merged.merge_from(in_order);
  std::map<uint64_t, int64_t> expected;
  for (const auto& e : chunk.entries()) expected[e.key] += e.sums.sessions;
  for (const auto& e : in_order.entries()) expected[e.key] += e.sums.sessions;
  ASSERT_EQ(merged.size(), expected.size());
  for (const auto& [key, sessions] : expected)
    EXPECT_EQ(merged.entries()[merged.find(key)].sums.sessions, sessions);
  // Kept entries stay findable; the in-order path adds no twin of them.
  const size_t keep = in_order.partition_out([](const auto& e) { return e.key % 2 == 0; });
  in_order.truncate(keep);
  for (const auto& e : in_order.entries()) {
    EXPECT_EQ(in_order.find(e.key), in_order.index_of_in_order(e.key));
  }
  EXPECT_EQ(in_order.size(), keep);
}

}  // namespace
}  // namespace loadcast
