// The five-minute aggregate within a memory budget (docs/operations.md,
// "Memory"). Below the budget it is the chunks' entries as they came,
// packed, summed by the features stage; when they would outgrow their room
// (an eighth of the budget), they are summed into one hash table. Past the budget, the
// table's older buckets go to disk: every bucket before a watermark leaves the
// table as its sum so far, and every later contribution to such a bucket is
// kept as it came, in chunk order, and written out in turn. Replaying a
// server's spilled entries in the order they were written adds the same
// numbers in the same order as the in-memory table did, so its sums, and all
// that is built from them, are bit for bit the same for any budget.
//
// Time-ordered input (the usual case) fills the table with new buckets and
// leaves the old ones complete: they are written once and nothing comes
// after them. Shuffled input spills more, and gives the same result.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "aggregate/bucket_table.h"
#include "aggregate/packed_entries.h"

namespace loadcast {

// Runs of spilled entries, one after the other in one file of a folder: one
// zstd frame per server in each run, and an index in memory of where every
// server's frames are.
class SpillRuns {
 public:
  using Entry = BucketTable::Entry;

  explicit SpillRuns(const std::filesystem::path& folder);
  ~SpillRuns();
  SpillRuns(const SpillRuns&) = delete;
  SpillRuns& operator=(const SpillRuns&) = delete;

  // Writes one run: the servers in any order, each once, its entries in
  // replay order. Throws a data error naming the file when the disk refuses.
  class Writer {
   public:
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    void begin_server(ServerKey server);
    void add(const Entry& entry);
    void end_server();
    void finish();

   private:
    friend class SpillRuns;
    explicit Writer(SpillRuns& runs);
    void compress(bool end_frame);

    SpillRuns& runs_;
    std::vector<Entry> pending_;  // entries not yet compressed
    std::vector<char> out_;       // compressed bytes of one step
    ServerKey server_ = 0;
    uint64_t frame_start_ = 0;
    uint64_t frame_entries_ = 0;
    int64_t min_bucket_ = 0;
    int64_t max_bucket_ = 0;
  };
  Writer begin_run();

  // One server's frames: how many entries and which buckets they span.
  struct Extent {
    uint64_t entries = 0;
    int64_t first_bucket = 0;
    int64_t last_bucket = 0;
  };
  // Every server with spilled entries.
  std::vector<ServerKey> servers() const;
  Extent extent(ServerKey server) const;
  // A server's entries, every run in order: what replay adds up. Thread-safe.
  void read(ServerKey server, std::vector<Entry>& out) const;

  int64_t runs() const { return runs_; }
  int64_t bytes() const { return static_cast<int64_t>(offset_); }  // compressed, on disk
  int64_t raw_bytes() const { return raw_bytes_; }                 // before compression

 private:
  struct Frame {
    uint64_t offset;
    uint64_t bytes;
    uint64_t entries;
    int64_t first_bucket;
    int64_t last_bucket;
  };
  void put(const void* data, size_t size);
  [[noreturn]] void fail_write() const;
  void release() noexcept;

  std::filesystem::path path_;
  void* cctx_ = nullptr;  // ZSTD_CCtx, reused by every run
  std::FILE* out_ = nullptr;
  int in_ = -1;
  uint64_t offset_ = 0;  // bytes written so far
  int64_t runs_ = 0;
  std::unordered_map<ServerKey, std::vector<Frame>> frames_;  // in run order
  int64_t raw_bytes_ = 0;
};

// How much a table entry and a logged entry cost, everything they bring
// with them counted (hash slots, the sort order of the features stage).
inline constexpr size_t kTableEntryBytes = sizeof(BucketTable::Entry) + 32;
inline constexpr size_t kLoggedEntryBytes = sizeof(BucketTable::Entry) + 4;

// A table's entries, read as PackedEntries are: the positions are indices.
class TableEntries {
 public:
  explicit TableEntries(const BucketTable::Entries& entries) : entries_(entries) {}
  size_t end() const { return entries_.size(); }
  static size_t next(size_t at) { return at + 1; }
  size_t size() const { return entries_.size(); }
  uint64_t key(size_t at) const { return entries_[at].key; }
  void add_to(size_t at, BucketSums& sums) const { sums.add(entries_[at].sums); }
  void prefetch(size_t at) const {
    const auto* entry = reinterpret_cast<const char*>(&entries_[at]);
    __builtin_prefetch(entry);
    __builtin_prefetch(entry + sizeof(entries_[at]) - 1);  // an entry spans two lines
  }

 private:
  const BucketTable::Entries& entries_;
};

class BoundedAggregate {
 public:
  using Entry = BucketTable::Entry;

  // `budget_bytes`: what the table and the log of late contributions may
  // hold together; `spill_folder` makes the folder for the runs on the first
  // spill (so that a run within budget makes none).
  BoundedAggregate(size_t budget_bytes, std::function<std::filesystem::path()> spill_folder);

  // A chunk's partial aggregate, or one entry of it; chunks in chunk order.
  void add(const BucketTable& partial);
  void add(const Entry& entry);

  // After the last chunk: when anything was spilled (or `everything`),
  // spills the rest too and frees the memory, so that every server is read
  // back from the runs.
  void finish(bool everything = false);

  bool spilled() const { return runs_ != nullptr; }
  // The whole aggregate in memory, REQUIRES: !spilled(): `fn(entries)`
  // with the entries in chunk order, as PackedEntries or TableEntries, where
  // a key may repeat (a bucket two chunks share): adding a key's entries up
  // in this order gives its sums.
  template <class Fn>
  decltype(auto) with_entries(Fn&& fn) const {
    if (arriving_) return fn(arrived_);
    return fn(TableEntries(table_.entries()));
  }
  // What the entries and their index hold.
  size_t memory_bytes() const {
    return arriving_ ? arrived_.memory_bytes() : table_.memory_bytes();
  }
  // The whole aggregate as one table (its entries summed first).
  // REQUIRES: !spilled().
  BucketTable& table();
  // REQUIRES: spilled().
  const SpillRuns& runs() const { return *runs_; }
  int64_t evictions() const { return evictions_; }
  int64_t logged_entries() const { return logged_; }

 private:
  void evict();
  // Writes the log and the table's entries from `first` on as one run.
  void write_run(size_t first);
  void log(const Entry& entry);
  // Leaves the arriving mode: the arrived entries become the table.
  void sum_arrived();
  // Appends entries while they fit the table's room; else sums the arrived
  // ones into the table and returns false (the caller adds these to it).
  bool arrive(const Entry* first, const Entry* last);

  // Until their room is taken, chunks are only appended, in chunk order,
  // to `arrived_`: no hashing while everything fits, and the features stage
  // adds repeated keys up as it gathers each server's (etl.cpp).
  bool arriving_ = true;
  PackedEntries arrived_;
  size_t arrival_room_;  // bytes
  BucketTable table_;
  std::vector<Entry> log_;  // contributions to buckets before the watermark
  size_t max_log_;
  size_t log_room_;    // max_log_, or half of it while arrived_ is summed
  int64_t watermark_;  // buckets before it are on disk
  std::function<std::filesystem::path()> spill_folder_;
  std::unique_ptr<SpillRuns> runs_;
  int64_t evictions_ = 0;
  int64_t logged_ = 0;
};

// Adds a server's spilled entries up in order and returns its buckets, sorted
// by bucket (what history_from_buckets takes).
void replay(std::span<const BucketTable::Entry> entries, std::vector<ServerBucket>& out);

}  // namespace loadcast
