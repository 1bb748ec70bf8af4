#include "ingest/pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/progress.h"

namespace loadcast {

int64_t total_input_bytes(const std::vector<InputFile>& files) {
  int64_t total = 0;
  for (const auto& f : files) {
    if (f.bytes < 0) return -1;
    total += f.bytes;
  }
  return total;
}

Layout resolve_layout(Layout configured, std::string_view sample, const std::string& first_input) {
  if (configured != Layout::kAuto) return configured;
  const auto detected = detect_layout(sample);
  if (!detected)
    fail_usage("layout 'auto': the first lines of '" + first_input +
               "' have neither 17 (sessions17) nor 16 (sessions16) fields; set 'layout' in the "
               "configuration");
  return *detected;
}

namespace {

// A pool of workers that parses one round of chunks at a time: start() lets
// them claim the next `round_chunks` chunks of the source, finish() waits for
// them. The caller starts round r + 1 before it handles round r.
class RoundParser {
 public:
  RoundParser(ChunkSource& source, const LineRules& rules, ServerDictionary& servers, int threads,
              int round_chunks, Progress& progress)
      : source_(source),
        rules_(rules),
        servers_(servers),
        round_chunks_(round_chunks),
        progress_(progress),
        accounting_(static_cast<size_t>(threads)) {
    for (int t = 0; t < threads; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~RoundParser() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  RoundParser(const RoundParser&) = delete;
  RoundParser& operator=(const RoundParser&) = delete;

  // REQUIRES: the previous round was finished.
  void start() {
    std::lock_guard lock(mutex_);
    claimed_ = 0;
    busy_ = static_cast<int>(workers_.size());
    ++round_;
    start_cv_.notify_all();
  }

  // The partials of the round started last, sorted by chunk; rethrows the
  // first failure of a worker.
  std::vector<ChunkPartial> finish() {
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return busy_ == 0; });
    if (error_) std::rethrow_exception(error_);
    std::vector<ChunkPartial> round = std::move(parsed_);
    parsed_.clear();
    std::sort(round.begin(), round.end(),
              [](const auto& a, const auto& b) { return a.chunk < b.chunk; });
    return round;
  }

  // Keeps the tables of a handled round for later rounds (no regrowing).
  void recycle(std::vector<ChunkPartial>& round) {
    std::lock_guard lock(mutex_);
    for (auto& p : round) {
      p.table.clear();
      pool_.push_back(std::move(p.table));
    }
    round.clear();
  }

  // REQUIRES: every round was finished.
  LineAccounting accounting() const {
    LineAccounting total;
    for (const auto& a : accounting_) total.add(a);
    return total;
  }

 private:
  void work(int t) {
    LineParser parser(rules_, servers_);
    LineAccounting& accounting = accounting_[static_cast<size_t>(t)];
    Chunk chunk;
    uint64_t seen = 0;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        start_cv_.wait(lock, [&] { return stop_ || round_ != seen; });
        if (stop_) return;
        seen = round_;
      }
      try {
        parse_claimed(parser, chunk, accounting);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (--busy_ == 0) done_cv_.notify_all();
    }
  }

  void parse_claimed(LineParser& parser, Chunk& chunk, LineAccounting& accounting) {
    while (true) {
      BucketTable table(0);
      {
        std::lock_guard lock(mutex_);
        if (stop_ || error_ || claimed_ >= round_chunks_) return;
        ++claimed_;
        if (pool_.empty()) {
          table = BucketTable(1 << 16);
        } else {
          table = std::move(pool_.back());
          pool_.pop_back();
        }
      }
      // Claims happen in one order per source, so a round holds exactly this
      // rank's next round_chunks_ chunks.
      ChunkRange range;
      if (!source_.claim(chunk, range)) {
        std::lock_guard lock(mutex_);
        pool_.push_back(std::move(table));
        return;
      }
      source_.read_lines(range, chunk, [&](std::string_view lines) {
        const int64_t accepted_before = accounting.accepted;
        parser.parse(lines, table, accounting);
        progress_.advance(static_cast<int64_t>(lines.size()),
                          accounting.accepted - accepted_before);
      });
      std::lock_guard lock(mutex_);
      parsed_.push_back(ChunkPartial{chunk.sequence, std::move(table)});
    }
  }

  ChunkSource& source_;
  const LineRules& rules_;
  ServerDictionary& servers_;
  const int round_chunks_;
  Progress& progress_;
  std::vector<LineAccounting> accounting_;  // one per worker, read after the last round
  std::vector<std::thread> workers_;

  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  uint64_t round_ = 0;                // rounds started; guarded by mutex_
  int claimed_ = 0;                   // guarded by mutex_
  int busy_ = 0;                      // workers still in the round; guarded by mutex_
  bool stop_ = false;                 // guarded by mutex_
  std::vector<ChunkPartial> parsed_;  // guarded by mutex_
  std::vector<BucketTable> pool_;     // guarded by mutex_
  std::exception_ptr error_;          // guarded by mutex_
};

}  // namespace

LineAccounting parse_rounds(ChunkSource& source, const LineRules& rules, ServerDictionary& servers,
                            const IngestOptions& options, int64_t progress_bytes,
                            const RoundHandler& handle) {
  Progress progress("etl: reading", progress_bytes, options.progress);
  const int threads = std::max(1, options.threads);
  const int round_chunks = options.round_chunks > 0 ? options.round_chunks : 2 * threads;
  RoundParser parser(source, rules, servers, threads, round_chunks, progress);
  parser.start();
  while (true) {
    std::vector<ChunkPartial> round = parser.finish();
    parser.start();
    const bool more = handle(round);
    parser.recycle(round);
    if (!more) break;
  }
  // No rank had a chunk left, so the round started last is empty.
  if (!parser.finish().empty()) fail_internal("ingest: chunks left after the last round");
  progress.finish();
  return parser.accounting();
}

IngestResult ingest(const std::string& data_file, LineRules rules, const IngestOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  IngestResult result;
  result.files = expand_inputs(data_file);
  result.servers = std::make_unique<ServerDictionary>();
  ChunkSource source(result.files, options.chunk_bytes, 0, 1);
  result.layout =
      resolve_layout(rules.layout, source.peek(kLayoutSampleBytes), result.files.front().path);
  rules.layout = result.layout;
  result.accounting =
      parse_rounds(source, rules, *result.servers, options, total_input_bytes(result.files),
                   [&](std::vector<ChunkPartial>& round) {
                     for (const auto& p : round) result.buckets.merge_from(p.table);
                     return !round.empty();
                   });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace loadcast
