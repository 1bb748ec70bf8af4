#include "aggregate/spill.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include "common/error.h"
#include "common/faults.h"
#include "common/size.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

// Fast compression: the runs are read once, soon, on the same machine.
constexpr int kCompressionLevel = 1;
constexpr size_t kPendingEntries = 4096;
constexpr size_t kOutputBytes = size_t{1} << 20;

ZSTD_CCtx* cctx_of(void* p) { return static_cast<ZSTD_CCtx*>(p); }

void check_zstd(size_t rc, const char* what) {
  if (ZSTD_isError(rc)) fail_internal(std::string("spill: ") + what + ": " + ZSTD_getErrorName(rc));
}

}  // namespace

SpillRuns::SpillRuns(const fs::path& folder) : path_(folder / "runs.zst") {
  // A constructor that throws runs no destructor: close what is open first.
  try {
    out_ = std::fopen(path_.c_str(), "wbe");
    if (!out_)
      fail_data("cannot create the spill file '" + path_.string() + "': " + std::strerror(errno));
    in_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_ < 0)
      fail_data("cannot read the spill file '" + path_.string() + "': " + std::strerror(errno));
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) fail_internal("spill: cannot create a zstd context");
    check_zstd(ZSTD_CCtx_setParameter(cctx_of(cctx_), ZSTD_c_compressionLevel, kCompressionLevel),
               "compression level");
  } catch (...) {
    release();
    throw;
  }
}

SpillRuns::~SpillRuns() { release(); }

void SpillRuns::release() noexcept {
  if (out_) std::fclose(out_);
  if (in_ >= 0) ::close(in_);
  ZSTD_freeCCtx(cctx_of(cctx_));  // null is fine
  out_ = nullptr;
  in_ = -1;
  cctx_ = nullptr;
}

SpillRuns::Writer SpillRuns::begin_run() { return Writer(*this); }

SpillRuns::Writer::Writer(SpillRuns& runs) : runs_(runs) {
  pending_.reserve(kPendingEntries);
  out_.resize(kOutputBytes);
}

void SpillRuns::Writer::begin_server(ServerKey server) {
  server_ = server;
  frame_start_ = runs_.offset_;
  frame_entries_ = 0;
  min_bucket_ = std::numeric_limits<int64_t>::max();
  max_bucket_ = std::numeric_limits<int64_t>::min();
}

void SpillRuns::Writer::add(const Entry& entry) {
  const int64_t bucket = key_bucket(entry.key);
  min_bucket_ = std::min(min_bucket_, bucket);
  max_bucket_ = std::max(max_bucket_, bucket);
  ++frame_entries_;
  pending_.push_back(entry);
  if (pending_.size() == kPendingEntries) compress(false);
}

void SpillRuns::Writer::end_server() {
  if (frame_entries_ == 0) return;
  compress(true);
  runs_.frames_[server_].push_back(
      Frame{frame_start_, runs_.offset_ - frame_start_, frame_entries_, min_bucket_, max_bucket_});
  runs_.raw_bytes_ += static_cast<int64_t>(frame_entries_ * sizeof(Entry));
}

void SpillRuns::Writer::compress(bool end_frame) {
  ZSTD_inBuffer in{pending_.data(), pending_.size() * sizeof(Entry), 0};
  const ZSTD_EndDirective mode = end_frame ? ZSTD_e_end : ZSTD_e_continue;
  while (true) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const size_t left = ZSTD_compressStream2(cctx_of(runs_.cctx_), &out, &in, mode);
    check_zstd(left, "compress");
    runs_.put(out_.data(), out.pos);
    if (end_frame ? left == 0 : in.pos == in.size) break;
  }
  pending_.clear();
}

void SpillRuns::put(const void* data, size_t size) {
  if (size == 0) return;
  if (write_checked(out_, data, size, path_.string()) != size) fail_write();
  offset_ += size;
}

void SpillRuns::fail_write() const {
  fail_data("cannot write the spill file '" + path_.string() + "' (" + describe_size(offset_) +
            " spilled so far): " + std::strerror(errno) +
            "; free space there, or point --spill-dir at a larger disk");
}

void SpillRuns::Writer::finish() {
  // Flushed, the run can be read back through the other descriptor.
  if (std::fflush(runs_.out_) != 0) runs_.fail_write();
  ++runs_.runs_;
}

std::vector<ServerKey> SpillRuns::servers() const {
  std::vector<ServerKey> keys;
  keys.reserve(frames_.size());
  for (const auto& [server, frames] : frames_) keys.push_back(server);
  std::sort(keys.begin(), keys.end());
  return keys;
}

SpillRuns::Extent SpillRuns::extent(ServerKey server) const {
  Extent e{0, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  const auto it = frames_.find(server);
  if (it == frames_.end()) return Extent{};
  for (const Frame& f : it->second) {
    e.entries += f.entries;
    e.first_bucket = std::min(e.first_bucket, f.first_bucket);
    e.last_bucket = std::max(e.last_bucket, f.last_bucket);
  }
  return e;
}

void SpillRuns::read(ServerKey server, std::vector<Entry>& out) const {
  out.clear();
  const auto it = frames_.find(server);
  if (it == frames_.end()) return;
  uint64_t total = 0;
  for (const Frame& f : it->second) total += f.entries;
  out.resize(total);
  std::vector<char> compressed;
  size_t filled = 0;
  for (const Frame& f : it->second) {
    compressed.resize(f.bytes);
    for (size_t got = 0; got < f.bytes;) {
      const ssize_t n =
          ::pread(in_, compressed.data() + got, f.bytes - got, static_cast<off_t>(f.offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        fail_data("cannot read the spill file '" + path_.string() +
                  "': " + (n < 0 ? std::strerror(errno) : "it is shorter than written"));
      got += static_cast<size_t>(n);
    }
    const size_t want = f.entries * sizeof(Entry);
    const size_t rc = ZSTD_decompress(out.data() + filled, want, compressed.data(), f.bytes);
    check_zstd(rc, "decompress");
    if (rc != want) fail_internal("spill: a frame of '" + path_.string() + "' is short");
    filled += f.entries;
  }
}

BoundedAggregate::BoundedAggregate(size_t budget_bytes,
                                   std::function<std::filesystem::path()> spill_folder)
    : arrival_room_(std::min(budget_bytes / 8, size_t{UINT32_MAX} * 32)),
      max_log_(std::max<size_t>(16, budget_bytes / 4 / kLoggedEntryBytes)),
      log_room_(max_log_),
      watermark_(std::numeric_limits<int64_t>::min()),
      spill_folder_(std::move(spill_folder)) {
  table_.limit_entries(std::max<size_t>(16, budget_bytes / 4 * 3 / kTableEntryBytes));
}

BucketTable& BoundedAggregate::table() {
  if (arriving_) sum_arrived();
  return table_;
}

void BoundedAggregate::sum_arrived() {
  arriving_ = false;
  const PackedEntries arrived = std::move(arrived_);
  arrived_ = PackedEntries();
  // Added up in the order they came, as the table would have added them.
  // Meanwhile they and the log share the log's quarter of the budget.
  log_room_ = max_log_ / 2;
  for (size_t at = 0; at < arrived.end(); at = arrived.next(at)) add(arrived.entry(at));
  log_room_ = max_log_;
}

bool BoundedAggregate::arrive(const Entry* first, const Entry* last) {
  const size_t needed =
      arrived_.used_bytes() + PackedEntries::bytes_for(static_cast<size_t>(last - first));
  if (needed > arrival_room_) {
    sum_arrived();
    return false;
  }
  if (needed > arrived_.memory_bytes())
    arrived_.reserve_bytes(std::min(std::max(needed, arrived_.memory_bytes() * 2), arrival_room_));
  arrived_.append(first, last);
  return true;
}

void BoundedAggregate::add(const BucketTable& partial) {
  if (arriving_ && arrive(partial.entries().begin(), partial.entries().end())) return;
  // Nothing spilled and room for the whole chunk: the fast merge.
  if (watermark_ == std::numeric_limits<int64_t>::min() &&
      table_.size() + partial.size() <= table_.max_entries()) {
    table_.merge_from(partial);
    return;
  }
  for (const Entry& e : partial.entries()) add(e);
}

void BoundedAggregate::add(const Entry& entry) {
  if (arriving_ && arrive(&entry, &entry + 1)) return;
  if (key_bucket(entry.key) < watermark_) return log(entry);
  uint32_t index = table_.find(entry.key);
  if (index == BucketTable::kAbsent) {
    if (table_.size() >= table_.max_entries()) {
      evict();
      if (key_bucket(entry.key) < watermark_) return log(entry);
    }
    index = table_.index_of(entry.key);
  }
  table_.entries()[index].sums.add(entry.sums);
}

void BoundedAggregate::log(const Entry& entry) {
  if (log_.size() >= log_room_) write_run(table_.size());
  if (log_.size() == log_.capacity())
    log_.reserve(std::min(std::max<size_t>(1024, log_.capacity() * 2), log_room_));
  log_.push_back(entry);
  ++logged_;
}

void BoundedAggregate::evict() {
  // The new watermark: the median bucket of a sample of the table, so that
  // about half of it leaves (for time-ordered input, its older half).
  const BucketTable::Entries& entries = table_.entries();
  const size_t stride = std::max<size_t>(1, entries.size() / 4096);
  std::vector<int64_t> sample;
  for (size_t i = 0; i < entries.size(); i += stride) sample.push_back(key_bucket(entries[i].key));
  const auto middle = sample.begin() + static_cast<std::ptrdiff_t>(sample.size() / 2);
  std::nth_element(sample.begin(), middle, sample.end());
  watermark_ = std::max(watermark_, *middle + 1);
  ++evictions_;

  const int64_t watermark = watermark_;
  const size_t keep =
      table_.partition_out([watermark](const Entry& e) { return key_bucket(e.key) < watermark; });
  write_run(keep);
  table_.truncate(keep);
}

void BoundedAggregate::write_run(size_t first) {
  if (!runs_) runs_ = std::make_unique<SpillRuns>(spill_folder_());
  // The table's leaving entries by key (so by server, then bucket); the
  // log's grouped by server, keeping their order within each server.
  BucketTable::Entries& entries = table_.entries();
  const auto leaving = std::span(entries).subspan(first);
  std::sort(leaving.begin(), leaving.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });

  std::unordered_map<ServerKey, uint32_t> group_of;
  std::vector<std::pair<ServerKey, uint32_t>> groups;  // server, count
  for (const Entry& e : log_) {
    const auto [it, inserted] =
        group_of.try_emplace(key_server(e.key), static_cast<uint32_t>(groups.size()));
    if (inserted) groups.emplace_back(key_server(e.key), 0);
    ++groups[it->second].second;
  }
  std::vector<uint32_t> by_server(groups.size());
  for (uint32_t g = 0; g < by_server.size(); ++g) by_server[g] = g;
  std::sort(by_server.begin(), by_server.end(),
            [&](uint32_t a, uint32_t b) { return groups[a].first < groups[b].first; });
  std::vector<size_t> start(groups.size());
  size_t at = 0;
  for (uint32_t g : by_server) {
    start[g] = at;
    at += groups[g].second;
  }
  std::vector<uint32_t> order(log_.size());
  {
    std::vector<size_t> next = start;
    for (uint32_t i = 0; i < log_.size(); ++i) order[next[group_of[key_server(log_[i].key)]]++] = i;
  }

  SpillRuns::Writer run = runs_->begin_run();
  size_t table_at = 0;
  size_t group_at = 0;
  while (table_at < leaving.size() || group_at < by_server.size()) {
    const ServerKey from_table = table_at < leaving.size() ? key_server(leaving[table_at].key)
                                                           : std::numeric_limits<ServerKey>::max();
    const ServerKey from_log = group_at < by_server.size() ? groups[by_server[group_at]].first
                                                           : std::numeric_limits<ServerKey>::max();
    const ServerKey server = std::min(from_table, from_log);
    run.begin_server(server);
    // A server's logged entries and its leaving ones are different buckets
    // (before and after the previous watermark): their order is free.
    if (from_log == server) {
      const uint32_t g = by_server[group_at++];
      for (size_t k = start[g]; k < start[g] + groups[g].second; ++k) run.add(log_[order[k]]);
    }
    while (table_at < leaving.size() && key_server(leaving[table_at].key) == server)
      run.add(leaving[table_at++]);
    run.end_server();
  }
  run.finish();
  log_.clear();
}

void BoundedAggregate::finish(bool everything) {
  if (!runs_ && !everything) return;
  if (arriving_) sum_arrived();
  watermark_ = std::numeric_limits<int64_t>::max();
  write_run(0);
  table_ = BucketTable(16);
  log_ = std::vector<Entry>();
}

void replay(std::span<const BucketTable::Entry> entries, std::vector<ServerBucket>& out) {
  out.clear();
  out.reserve(entries.size());
  // Time-ordered input spills each bucket once, in order: 0 + sum is the
  // sum, so the buckets are the entries as they are.
  const bool each_once_in_order =
      std::adjacent_find(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.key >= b.key;
      }) == entries.end();
  if (each_once_in_order) {
    for (const auto& e : entries) out.push_back({key_bucket(e.key), e.sums});
    return;
  }
  BucketTable table(16);
  table.reserve(entries.size());
  for (const auto& e : entries) table.at(e.key).add(e.sums);
  for (const auto& e : table.entries()) out.push_back({key_bucket(e.key), e.sums});
  std::sort(out.begin(), out.end(),
            [](const ServerBucket& a, const ServerBucket& b) { return a.bucket < b.bucket; });
}

}  // namespace loadcast
