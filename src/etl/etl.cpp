#include "etl/etl.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <memory>

#include "aggregate/spill.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/size.h"
#include "common/stopwatch.h"
#include "common/thread_pool.h"
#include "common/time.h"
#include "dist/job.h"
#include "dist/shuffle.h"
#include "features/engine.h"
#include "ingest/pipeline.h"
#include "store/atomic_dir.h"
#include "store/tables.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Chunks per thread in a round (two rounds are in flight).
constexpr int kRoundChunksPerThread = 2;

// The aggregate's entry positions grouped by server, in output order, each
// server's in arrival order.
using BucketOrder = HugeVector<uint32_t>;
// A sparse server's entries are sorted as their bucket bits above their
// index: sorting the numbers sorts by bucket, then arrival.
static_assert(kBucketBits + 32 <= 64, "bucket bits and an entry position share a number");
constexpr uint64_t bucket_then_arrival(uint64_t bucket_bits, uint32_t index) {
  return bucket_bits << 32 | index;
}

// A server whose features are to be built: its text and where its buckets are.
struct ServerToBuild {
  std::string ip;
  uint64_t bytes = 0;  // working_set_bytes
  ServerKey key = 0;   // spilled: its key in the runs
  size_t begin = 0;    // in memory: its slice of the order
  size_t end = 0;
  int64_t first_bucket = 0;  // in memory: the span of its buckets
  int64_t last_bucket = 0;
  // In memory: its span is at most four times its entries, so its buckets
  // are added up in place on a grid of the span instead of sorted (see
  // dense_span()).
  bool on_grid = false;
};

// A server's buckets are added up on a grid of its span when the span is
// short beside its entries (the usual fleet: a bucket every five minutes, or
// in working hours); a sparse one is sorted instead, so the grid never
// outgrows its entries much.
bool dense_span(size_t entries, int64_t first_bucket, int64_t last_bucket) {
  return static_cast<uint64_t>(last_bucket - first_bucket) < 4 * static_cast<uint64_t>(entries);
}

// The accounting as etl_summary.json holds it: the line fates at the top
// level, "rejected" and "missing_values" as objects (the bytes go elsewhere).
nlohmann::json accounting_json(const LineAccounting& a) {
  nlohmann::json j;
  for_each_counter(a, [&](const CounterName& c, int64_t v) {
    if (c.kind == CounterKind::kBytes) return;
    if (c.group.empty()) {
      j[std::string(c.name)] = v;
    } else {
      j[std::string(c.group)][std::string(c.name)] = v;
    }
  });
  return j;
}

constexpr const char* kSummaryFile = "etl_summary.json";
constexpr const char* kServersKey = "servers";
constexpr const char* kRowsKey = "rows";

// Every counter of the line accounting, summed over the ranks.
LineAccounting sum_over_ranks(dist::Communicator& comm, const LineAccounting& a) {
  auto values = counter_values(a);
  comm.allreduce_sum(values);
  return accounting_of(values);
}

// The rules of a line's fate for this configuration.
LineRules line_rules(const Config& config, Layout layout, bool filter_ip) {
  LineRules rules;
  rules.layout = layout;
  rules.window_begin = config.train_begin;
  rules.window_end = config.train_end;
  rules.filter_ip = filter_ip;
  rules.filter_ips = config.filter_ips;
  return rules;
}

// What every rank must agree on before reading: rank 0 lists the inputs once
// (so all ranks cut the same chunks) and detects the layout.
struct InputPlan {
  std::vector<InputFile> files;
  Layout layout = Layout::kSessions17;
  int round_chunks = 0;
};

InputPlan plan_inputs(dist::Communicator& comm, const Config& config, const EtlOptions& options,
                      std::unique_ptr<ChunkSource>& source) {
  auto store = std::make_shared<InputStore>(storage_settings(config));
  const nlohmann::json decided = dist::decide_on_root(comm, [&] {
    auto files = store->expand(config.data_file);
    source = std::make_unique<ChunkSource>(files, options.chunk_bytes, 0, comm.size(),
                                           ChunkSource::kPieceBytes, store);
    const Layout layout =
        resolve_layout(config.layout, source->peek(kLayoutSampleBytes), files.front().path);
    nlohmann::json j = {{kLayoutParam, static_cast<int>(layout)},
                        {"roundChunks", kRoundChunksPerThread * std::max(1, options.threads)}};
    for (const auto& f : files) j["files"].push_back({f.path, f.bytes});
    return j;
  });
  InputPlan plan;
  for (const auto& f : decided["files"])
    plan.files.push_back({f[0].get<std::string>(), f[1].get<int64_t>()});
  plan.layout = static_cast<Layout>(decided[kLayoutParam].get<int>());
  plan.round_chunks = decided["roundChunks"].get<int>();
  if (comm.rank() != 0)
    source = std::make_unique<ChunkSource>(plan.files, options.chunk_bytes, comm.rank(),
                                           comm.size(), ChunkSource::kPieceBytes, store);
  return plan;
}

// Groups the aggregate's entries by server text, each server's in arrival
// order (a bucket that several chunks share has an entry from each), with
// two counting passes; notes each server's span of buckets.
// `Entries`: PackedEntries or TableEntries.
template <class Entries>
std::vector<ServerToBuild> slice_by_server(const Entries& entries,
                                           const ServerDictionary& dictionary, BucketOrder& order) {
  // Each entry's server through a small open-addressing map (a fleet has few
  // servers: it stays in the first-level cache), looked up in both passes.
  std::vector<ServerKey> keys;
  std::vector<uint32_t> slots(64, UINT32_MAX);
  auto slot_of = [&](ServerKey server) -> uint32_t& {
    const size_t mask = slots.size() - 1;
    for (size_t i = mix64(server) & mask;; i = (i + 1) & mask)
      if (slots[i] == UINT32_MAX || keys[slots[i]] == server) return slots[i];
  };
  constexpr uint64_t kBucketMask = (uint64_t{1} << kBucketBits) - 1;
  std::vector<size_t> count;
  std::vector<uint64_t> lowest, highest;  // bucket bits
  for (size_t at = 0; at < entries.end(); at = entries.next(at)) {
    const uint64_t key = entries.key(at);
    const ServerKey server = key_server(key);
    uint32_t* slot = &slot_of(server);
    if (*slot == UINT32_MAX) {
      if ((keys.size() + 1) * 2 > slots.size()) {
        slots.assign(slots.size() * 2, UINT32_MAX);
        for (uint32_t k = 0; k < keys.size(); ++k) slot_of(keys[k]) = k;
        slot = &slot_of(server);
      }
      *slot = static_cast<uint32_t>(keys.size());
      keys.push_back(server);
      count.push_back(0);
      lowest.push_back(kBucketMask);
      highest.push_back(0);
    }
    const uint64_t bucket_bits = key & kBucketMask;
    ++count[*slot];
    lowest[*slot] = std::min(lowest[*slot], bucket_bits);
    highest[*slot] = std::max(highest[*slot], bucket_bits);
  }
  std::vector<std::pair<std::string, uint32_t>> by_text;
  by_text.reserve(keys.size());
  for (uint32_t k = 0; k < keys.size(); ++k) by_text.emplace_back(dictionary.text_of(keys[k]), k);
  std::sort(by_text.begin(), by_text.end());

  // Where each server's entries start, in text order; then the entries.
  std::vector<size_t> start(keys.size() + 1, 0);
  for (size_t r = 0; r < keys.size(); ++r) start[r + 1] = start[r] + count[by_text[r].second];
  std::vector<size_t> next(keys.size());
  for (size_t r = 0; r < keys.size(); ++r) next[by_text[r].second] = start[r];
  order.resize(entries.size());
  for (size_t at = 0; at < entries.end(); at = entries.next(at))
    order[next[slot_of(key_server(entries.key(at)))]++] = static_cast<uint32_t>(at);
  std::vector<ServerToBuild> slices;
  slices.reserve(keys.size());
  for (size_t r = 0; r < keys.size(); ++r) {
    ServerToBuild& s = slices.emplace_back();
    s.ip = std::move(by_text[r].first);
    s.begin = start[r];
    s.end = start[r + 1];
    s.first_bucket = key_bucket(lowest[by_text[r].second]);
    s.last_bucket = key_bucket(highest[by_text[r].second]);
    s.on_grid = dense_span(s.end - s.begin, s.first_bucket, s.last_bucket);
  }
  return slices;
}

// What rank 0's progress display counts towards: its share of the input.
int64_t progress_share(int64_t total_bytes, int ranks) {
  return total_bytes < 0 ? -1 : total_bytes / ranks;
}

// The program, its libraries, the dictionary and three CSV table writers'
// buffers.
constexpr uint64_t kBaseBytes = 40 * kMiB;

// The same with the table writers of `format`.
uint64_t base_bytes(TableFormat format) {
  return kBaseBytes + 3 * (table_writer_bytes(format) - table_writer_bytes(TableFormat::kCsv));
}
// The smallest share the aggregate works in (a table of a few dozen buckets).
constexpr uint64_t kMinAggregateBytes = 2 << 10;

// What a row of the feature table and of the hourly store takes as text, about.
constexpr size_t kFeatureRowBytes = 420;
constexpr size_t kHourlyRowBytes = 150;
// A server's rows are formatted a quarter at a time (in whole days), so
// that a long history never has all its rows in memory.
constexpr int64_t kSliceHours = int64_t{24} * 92;
constexpr int kSlicesPerThread = 2;  // in flight
constexpr uint64_t kSliceBytes =
    static_cast<uint64_t>(kSliceHours) * (kFeatureRowBytes + kHourlyRowBytes) +
    static_cast<uint64_t>(kSliceHours / 24) * kHourlyRowBytes;

// The memory one server takes while its features are built: its buckets
// (read back from spill runs: with the entries and the table they are added
// up in) and its hourly grid and daily means.
uint64_t working_set_bytes(uint64_t buckets, int64_t first_bucket, int64_t last_bucket,
                           bool spilled) {
  constexpr int64_t kBucketsPerHour = kSecondsPerHour / kBucketSeconds;
  const auto hours = static_cast<uint64_t>(floor_div(last_bucket, kBucketsPerHour) -
                                           floor_div(first_bucket, kBucketsPerHour) + 1);
  uint64_t bytes = hours * (sizeof(HourPeak) + 1) +
                   (hours / 24 + 2) * (sizeof(double) * kNumMeasures + 8) +
                   buckets * sizeof(ServerBucket);
  if (spilled) bytes += buckets * (2 * sizeof(BucketTable::Entry) + 40);
  return bytes;
}

[[noreturn]] void fail_too_small(uint64_t limit, const ServerToBuild& server, uint64_t available) {
  throw Failure(ExitCode::kUsage, "the memory limit of " + describe_size(limit) +
                                      " cannot hold the features of server " + server.ip +
                                      ": its hours need about " + describe_size(server.bytes) +
                                      " and " + describe_size(available) +
                                      " is left; raise --memory-limit (memoryLimit) to " +
                                      describe_size(limit - available + server.bytes) + " or more");
}

// The servers in text order, and where their buckets are: in the table,
// or (past the limit) in the spill runs. `order` and `resident` receive the
// table's sorted order and what the table and it hold meanwhile. A server
// too large to build beside the table spills the table.
std::vector<ServerToBuild> servers_to_build(BoundedAggregate& owned,
                                            const ServerDictionary& dictionary, uint64_t limit,
                                            uint64_t base, BucketOrder& order, uint64_t& resident) {
  std::vector<ServerToBuild> servers;
  if (!owned.spilled()) {
    servers = owned.with_entries(
        [&](const auto& entries) { return slice_by_server(entries, dictionary, order); });
    uint64_t largest = 0;
    for (ServerToBuild& s : servers) {
      const uint64_t grid =
          s.on_grid ? static_cast<uint64_t>(s.last_bucket - s.first_bucket) + 1 : 0;
      s.bytes = working_set_bytes(std::max<uint64_t>(s.end - s.begin, grid), s.first_bucket,
                                  s.last_bucket, false) +
                (s.on_grid ? 0 : (s.end - s.begin) * sizeof(uint64_t));  // its sort keys
      largest = std::max(largest, s.bytes);
    }
    resident = owned.memory_bytes() + order.capacity() * sizeof(order[0]);
    // A server too large to build beside the table: spill the table.
    if (base + resident + largest > limit) {
      servers.clear();
      order = {};
      resident = 0;
      owned.finish(true);
    }
  }
  if (owned.spilled()) {
    const SpillRuns& runs = owned.runs();
    for (const ServerKey key : runs.servers()) {
      const SpillRuns::Extent e = runs.extent(key);
      servers.push_back({dictionary.text_of(key),
                         working_set_bytes(e.entries, e.first_bucket, e.last_bucket, true), key});
    }
    std::sort(servers.begin(), servers.end(),
              [](const ServerToBuild& a, const ServerToBuild& b) { return a.ip < b.ip; });
  }

  return servers;
}

// The three tables' writers of this rank.
struct TableWriters {
  PartitionedTableWriter* features;
  PartitionedTableWriter* hourly;
  PartitionedTableWriter* daily;
};

// One server's grid hours [begin, end), to be formatted as one slice.
struct Slice {
  size_t server;      // in the batch
  size_t begin, end;  // hours of its grid
};

// A slice's formatted rows. The buffers of the slices in flight are kept
// from one group of slices to the next (cleared, not freed): memory new to
// the process costs a page fault and a cleared page, every time.
struct SliceRows {
  MonthlyRows features, hourly, daily;
};

// The slices of a batch, in output order: server, then a quarter at a time,
// each ending on a day boundary (a grid may start at any hour of a day).
std::vector<Slice> slices_of(const std::vector<ServerHistory>& histories) {
  std::vector<Slice> slices;
  for (size_t i = 0; i < histories.size(); ++i) {
    const auto hours = static_cast<int64_t>(histories[i].hours.size());
    const int64_t first_hour = histories[i].first_hour;
    for (int64_t begin = 0; begin < hours;) {
      const int64_t end =
          std::min(hours, (floor_div(first_hour + begin, 24) + kSliceHours / 24) * 24 - first_hour);
      slices.push_back(Slice{i, static_cast<size_t>(begin), static_cast<size_t>(end)});
      begin = end;
    }
  }
  return slices;
}

// Formats a slice's feature rows and store rows into `rows` (cleared); a day
// goes with the slice its first grid hour is in.
void format_slice(const Slice& slice, const ServerHistory& history, const FeatureParams& params,
                  const FeatureSchema& schema, SliceRows& rows) {
  const size_t hours = slice.end - slice.begin;
  rows.features.reserve(hours * kFeatureRowBytes);
  for_each_grid_row(history, params, slice.begin, slice.end,
                    [&](const FeatureRow& row) { append_feature_row(rows.features, row, schema); });
  rows.hourly.reserve(hours * kHourlyRowBytes);
  write_hourly_store(rows.hourly, history, slice.begin, slice.end);
  const auto day_of = [&](size_t hour) {
    return static_cast<size_t>(floor_div(history.first_hour + static_cast<int64_t>(hour) + 23, 24) -
                               history.first_day);
  };
  const size_t day_begin = slice.begin == 0 ? 0 : day_of(slice.begin);
  const size_t day_end =
      slice.end == history.hours.size() ? history.daily.size() : day_of(slice.end);
  write_daily_store(rows.daily, history, day_begin, day_end);
}

// A server's buckets in order, each the sum of its entries added up from zero
// in arrival order, as a table adds them: on a grid of its span, or (a sparse
// server) along its entries sorted by bucket, then arrival, in `sorted`.
template <class Entries>
void add_up_buckets(const ServerToBuild& s, const Entries& entries, const BucketOrder& order,
                    std::vector<uint64_t>& sorted, std::vector<ServerBucket>& out) {
  out.clear();
  if (!s.on_grid) {
    sorted.clear();
    constexpr uint64_t kBucketMask = (uint64_t{1} << kBucketBits) - 1;
    for (size_t k = s.begin; k < s.end; ++k)
      sorted.push_back(bucket_then_arrival(entries.key(order[k]) & kBucketMask, order[k]));
    std::sort(sorted.begin(), sorted.end());
    for (const uint64_t key : sorted) {
      const auto at = static_cast<uint32_t>(key);
      const int64_t bucket = key_bucket(entries.key(at));
      if (out.empty() || out.back().bucket != bucket) out.push_back({bucket, BucketSums{}});
      entries.add_to(at, out.back().sums);
    }
    return;
  }
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  out.assign(static_cast<size_t>(s.last_bucket - s.first_bucket) + 1, {kNone, BucketSums{}});
  // A server's entries lie all over the aggregate: fetch a few ahead, so the
  // misses overlap.
  constexpr size_t kAhead = 8;
  for (size_t k = s.begin; k < s.end; ++k) {
    if (k + kAhead < s.end) entries.prefetch(order[k + kAhead]);
    const int64_t bucket = key_bucket(entries.key(order[k]));
    ServerBucket& b = out[static_cast<size_t>(bucket - s.first_bucket)];
    b.bucket = bucket;
    entries.add_to(order[k], b.sums);
  }
  std::erase_if(out, [](const ServerBucket& b) { return b.bucket == kNone; });
}

// Builds and writes every server's rows, in order; returns the batches.
// Servers are independent: their histories are built in parallel batches
// that fit the limit, then their rows formatted a slice at a time, in
// parallel, and written in order.
int64_t write_servers(const std::vector<ServerToBuild>& servers, const BoundedAggregate& owned,
                      const BucketOrder& order, const FeatureParams& params,
                      const FeatureSchema& schema, const TableWriters& out, int threads,
                      uint64_t limit, uint64_t base, uint64_t resident) {
  // What a batch may hold: its servers, and at least one slice of rows in
  // flight (up to two per thread when there is room).
  const uint64_t available =
      limit > base + resident + kSliceBytes ? limit - base - resident - kSliceBytes : 0;
  const uint64_t most_in_flight = static_cast<uint64_t>(threads) * kSlicesPerThread;
  const size_t most = static_cast<size_t>(threads) * 16;
  std::vector<ServerHistory> histories;
  std::vector<std::vector<ServerBucket>> buckets(static_cast<size_t>(threads));  // per worker
  std::vector<std::vector<BucketTable::Entry>> spilled(static_cast<size_t>(threads));
  std::vector<std::vector<uint64_t>> sort_keys(static_cast<size_t>(threads));
  std::vector<SliceRows> in_flight;
  int64_t batches = 0;
  for (size_t first = 0; first < servers.size();) {
    size_t count = 0;
    uint64_t bytes = 0;
    while (first + count < servers.size() && count < most) {
      const ServerToBuild& next = servers[first + count];
      if (next.bytes > available) fail_too_small(limit, next, available);
      if (bytes + next.bytes > available) break;
      bytes += next.bytes;
      ++count;
    }
    histories.assign(count, ServerHistory{});
    run_tasks(count, threads, [&](size_t i, int worker) {
      const ServerToBuild& s = servers[first + i];
      std::vector<ServerBucket>& mine = buckets[static_cast<size_t>(worker)];
      if (owned.spilled()) {
        std::vector<BucketTable::Entry>& raw = spilled[static_cast<size_t>(worker)];
        owned.runs().read(s.key, raw);
        replay(raw, mine);
      } else {
        owned.with_entries([&](const auto& entries) {
          add_up_buckets(s, entries, order, sort_keys[static_cast<size_t>(worker)], mine);
        });
      }
      histories[i] = history_from_buckets(s.ip, mine);
    });

    const std::vector<Slice> slices = slices_of(histories);
    const auto group = static_cast<size_t>(
        std::clamp<uint64_t>((available - bytes) / kSliceBytes + 1, 1, most_in_flight));
    // The buffers of the slices in flight; a smaller group frees the rest.
    in_flight.resize(group, {out.features->rows(), out.hourly->rows(), out.daily->rows()});
    for (size_t at = 0; at < slices.size(); at += group) {
      const size_t n = std::min(group, slices.size() - at);
      run_tasks(n, threads, [&](size_t k, int) {
        const Slice& slice = slices[at + k];
        format_slice(slice, histories[slice.server], params, schema, in_flight[k]);
      });
      for (size_t k = 0; k < n; ++k) {
        SliceRows& rows = in_flight[k];
        out.features->append(rows.features);
        out.hourly->append(rows.hourly);
        out.daily->append(rows.daily);
        rows.features.clear();
        rows.hourly.clear();
        rows.daily.clear();
      }
    }
    histories.clear();
    first += count;
    ++batches;
  }
  return batches;
}

}  // namespace

uint64_t reading_memory_bytes(int threads, size_t chunk_bytes, int ranks, TableFormat format) {
  threads = std::max(1, threads);
  // A chunk's partial holds at most a bucket per line of 100 bytes or more,
  // 50 bytes of it per line.
  const uint64_t partial = std::max<uint64_t>(kMiB, chunk_bytes / 2);
  const uint64_t rounds = uint64_t{2} * kRoundChunksPerThread * static_cast<uint64_t>(threads) *
                          partial * (ranks > 1 ? 2 : 1);
  return base_bytes(format) + static_cast<uint64_t>(threads) * 2 * chunk_bytes + rounds;
}

const std::vector<std::string>& etl_output_names() {
  static const std::vector<std::string> names = {"features", "hourly", "daily", kSummaryFile};
  return names;
}

EtlReport run_etl(const Config& config, const EtlOptions& options) {
  const auto comm = dist::make_local_communicator();
  return run_etl(config, options, *comm);
}

EtlReport run_etl(const Config& config, const EtlOptions& options, dist::Communicator& comm) {
  const Stopwatch start;
  const bool root = comm.rank() == 0;
  const int threads = std::max(1, options.threads);
  EtlReport report;
  report.ranks = comm.size();
  report.memory_limit =
      options.memory_limit > 0 ? options.memory_limit : dist::default_memory_limit();
  const uint64_t limit = report.memory_limit;
  // Large buffers (tables, a server's rows) straight from the system and
  // back to it when freed: glibc would otherwise keep freed ones in its
  // per-thread arenas, and the process would hold more than the limit.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);

  // One writer at a time for this output; the spill runs live in it too.
  const fs::path& out = config.output;
  const std::vector<std::string>& names = etl_output_names();
  std::unique_ptr<OutputLock> lock;
  dist::decide_on_root(comm, [&] {
    lock = std::make_unique<OutputLock>(
        out, "etl",
        std::vector<fs::path>{out / names[0], out / names[1], out / names[2], out / names[3],
                              out / "spill"});
    return nullptr;
  });

  // Ingest: parse this rank's chunks, round by round; each round's partials
  // go to the owners of their servers while the next round is parsed.
  std::unique_ptr<ChunkSource> source;
  const InputPlan plan = plan_inputs(comm, config, options, source);
  const uint64_t reading =
      reading_memory_bytes(threads, options.chunk_bytes, comm.size(), config.format);
  if (limit < reading + kMinAggregateBytes)
    throw dist::CollectiveFailure(
        ExitCode::kUsage,
        "the memory limit of " + describe_size(limit) + " is less than reading takes: " +
            std::to_string(threads) + " threads with " + describe_size(options.chunk_bytes) +
            " chunks need about " + describe_size(reading + kMinAggregateBytes) +
            (config.format == TableFormat::kParquet ? " with the Parquet table writers" : "") +
            "; raise --memory-limit (memoryLimit), or lower --threads or --chunk-mb");
  IngestOptions ingest_options;
  ingest_options.threads = threads;
  ingest_options.chunk_bytes = options.chunk_bytes;
  ingest_options.progress = options.progress && root;
  ingest_options.round_chunks = plan.round_chunks;
  ServerDictionary dictionary;
  std::unique_ptr<StagedDirectory> spill_folder;  // never committed: removed however the run ends
  BoundedAggregate owned(limit - reading, [&] {
    const fs::path base = options.spill_dir.empty() ? out : options.spill_dir;
    std::string owner = "r";  // appended: "r" + string trips GCC 12's -Wrestrict
    owner += std::to_string(comm.rank());
    spill_folder = std::make_unique<StagedDirectory>(base / "spill", owner);
    if (options.progress)
      std::fprintf(stderr, "\netl: rank %d is past the memory limit of %s: spilling to '%s'\n",
                   comm.rank(), describe_size(limit).c_str(), spill_folder->path().c_str());
    return spill_folder->path();
  });
  dist::PartialShuffle shuffle(comm, dictionary, owned);
  const LineAccounting local =
      parse_rounds(*source, line_rules(config, plan.layout, options.filter_ip), dictionary,
                   ingest_options, progress_share(total_input_bytes(plan.files), comm.size()),
                   [&](std::vector<ChunkPartial>& round) {
                     const Stopwatch shuffle_start;
                     shuffle.exchange(round);
                     std::vector<int64_t> chunks = {static_cast<int64_t>(round.size())};
                     comm.allreduce_sum(chunks);
                     report.shuffle_seconds += shuffle_start.seconds();
                     dist::fault_point(comm, "shuffle");
                     return chunks[0] > 0;
                   });
  const blob::Traffic traffic = source->store().traffic();
  source.reset();
  owned.finish();
  report.accounting = sum_over_ranks(comm, local);
  report.ingest_seconds = start.seconds();
  if (!report.accounting.balanced())
    throw dist::CollectiveFailure(
        ExitCode::kInternal, "line accounting does not balance: " + describe(report.accounting));
  if (report.accounting.accepted == 0)
    throw dist::CollectiveFailure(ExitCode::kData, "no accepted rows in '" + config.data_file +
                                                       "' (" + describe(report.accounting) + ")");

  // Features of the servers this rank owns, into this rank's part files
  // inside the folders rank 0 stages.
  const Stopwatch features_start;
  std::array<std::unique_ptr<StagedDirectory>, 3> staged;
  const nlohmann::json staging = dist::decide_on_root(comm, [&] {
    nlohmann::json paths = nlohmann::json::array();
    for (size_t t = 0; t < staged.size(); ++t) {
      staged[t] = std::make_unique<StagedDirectory>(out / names[t]);
      paths.push_back(staged[t]->path().string());
    }
    return paths;
  });
  const FeatureSchema& schema = default_feature_schema();
  PartitionedTableWriter features(staging[0].get<std::string>(), Table::kFeatures, schema,
                                  config.format, comm.rank());
  PartitionedTableWriter hourly(staging[1].get<std::string>(), Table::kHourly, schema,
                                config.format, comm.rank());
  PartitionedTableWriter daily(staging[2].get<std::string>(), Table::kDaily, schema, config.format,
                               comm.rank());

  BucketOrder order;
  uint64_t resident = 0;
  const std::vector<ServerToBuild> servers =
      servers_to_build(owned, dictionary, limit, base_bytes(config.format), order, resident);
  FeatureParams params;
  params.train_begin = config.train_begin;
  params.low_threshold = config.low_threshold;
  params.high_threshold = config.high_threshold;
  const int64_t batches =
      write_servers(servers, owned, order, params, schema, {&features, &hourly, &daily}, threads,
                    limit, base_bytes(config.format), resident);
  features.close();
  hourly.close();
  daily.close();
  dist::fault_point(comm, "write");

  // The totals; the reduction is also the barrier: no rank gets past it
  // before every rank's part files are written and synced.
  const bool spills = owned.spilled();
  std::vector<int64_t> totals = {static_cast<int64_t>(servers.size()),
                                 features.rows_written,
                                 daily.rows_written,
                                 shuffle.bytes_sent(),
                                 spills ? owned.runs().bytes() : 0,
                                 spills ? owned.runs().raw_bytes() : 0,
                                 spills ? owned.runs().runs() : 0,
                                 spills ? 1 : 0,
                                 batches,
                                 owned.logged_entries(),
                                 traffic.requests,
                                 traffic.retries,
                                 traffic.bytes_read};
  comm.allreduce_sum(totals);
  report.servers = totals[0];
  report.rows = totals[1];
  report.daily_rows = totals[2];
  report.shuffle_bytes = totals[3];
  report.spill = {totals[4], totals[5], totals[6], totals[7], totals[9]};
  report.feature_batches = totals[8];
  report.blob = {totals[10], totals[11], totals[12]};
  report.shuffle_rounds = shuffle.rounds();
  const double features_seconds = features_start.seconds();
  report.total_seconds = start.seconds();
  if (!root) return report;

  // The summary marks the output complete; it goes in place with the tables.
  nlohmann::json& s = report.summary;
  s = accounting_json(report.accounting);
  s[kServersKey] = report.servers;
  s[kRowsKey] = report.rows;
  s["dailyRows"] = report.daily_rows;
  s[kLayoutParam] = std::string(layout_name(plan.layout));  // the one detected
  s.update(window_params().to_json(config));
  s[kFilterIpsField] =
      options.filter_ip ? nlohmann::json(config.filter_ips) : nlohmann::json(nullptr);
  s["files"] = nlohmann::json::array();
  for (const auto& f : plan.files) s["files"].push_back(f.path);
  s["bytes"] = report.accounting.bytes;
  s["ranks"] = report.ranks;
  s[kFormatField] = std::string(table_format_name(config.format));
  s["threads"] = threads;
  const double input_gb = report.accounting.bytes / 1e9;
  s["shuffle"] = {{"bytes", report.shuffle_bytes},
                  {"bytesPerInputGB", input_gb > 0 ? report.shuffle_bytes / input_gb : 0.0},
                  {"rounds", report.shuffle_rounds},
                  {"seconds", report.shuffle_seconds}};
  s[kMemoryLimitField] = limit;
  s["spill"] = {{"bytes", report.spill.bytes},
                {"rawBytes", report.spill.raw_bytes},
                {"bytesPerInputGB", input_gb > 0 ? report.spill.bytes / input_gb : 0.0},
                {"runs", report.spill.runs},
                {"ranks", report.spill.ranks},
                {"lateEntries", report.spill.late_entries},
                {"featureBatches", report.feature_batches}};
  if (!plan.files.empty() && InputStore::remote(plan.files.front()))
    s["blob"] = {{"requests", report.blob.requests},
                 {"retries", report.blob.retries},
                 {"bytesRead", report.blob.bytes_read}};
  s["seconds"] = {{"ingest", report.ingest_seconds},
                  {"features", features_seconds},
                  {"total", report.total_seconds}};
  s["ingestMBPerSecond"] =
      report.ingest_seconds > 0 ? report.accounting.bytes / 1e6 / report.ingest_seconds : 0.0;
  s["version"] = LOADCAST_VERSION;
  StagedFile summary(out / kSummaryFile, s.dump(2) + "\n");
  // All four or none: a failure here leaves the previous output as it was.
  commit_together({staged[0].get(), staged[1].get(), staged[2].get(), &summary});
  return report;
}

void check_features_match(const Config& config) {
  std::ifstream in(config.output / kSummaryFile, std::ios::binary);
  if (!in) return;
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  // The window the features were made with; the split only decides which
  // rows train and which test, so it may differ.
  Window made = config;
  std::vector<std::string> others;
  window_params().read(summary, made, ParamSource{(config.output / kSummaryFile).string()}, others);
  made.test_split_start = config.test_split_start;
  const nlohmann::json theirs = window_params().to_json(made);
  const nlohmann::json mine = window_params().to_json(config);
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (theirs[it.key()] == *it) continue;
    fail_usage((config.output / kSummaryFile).string() + ": the feature table was made with " +
               it.key() + " " + theirs[it.key()].dump() + ", the configuration has " + it->dump() +
               " (run 'loadcast etl' with this configuration)");
  }
}

nlohmann::json read_data_accounting(const fs::path& output) {
  std::ifstream in(output / kSummaryFile, std::ios::binary);
  if (!in) return nullptr;
  try {
    const auto summary = nlohmann::json::parse(in);
    nlohmann::json accounting = nlohmann::json::object();
    const nlohmann::json keys = accounting_json(LineAccounting{});
    for (auto it = keys.begin(); it != keys.end(); ++it)
      if (summary.contains(it.key())) accounting[it.key()] = summary[it.key()];
    for (const char* key : {kServersKey, kRowsKey})
      if (summary.contains(key)) accounting[key] = summary[key];
    return accounting;
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

}  // namespace loadcast
