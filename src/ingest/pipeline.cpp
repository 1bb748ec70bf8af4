#include "ingest/pipeline.h"

#include <algorithm>
#include <exception>
#include <mutex>

#include "common/error.h"
#include "common/progress.h"
#include "common/stopwatch.h"
#include "common/thread_pool.h"

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

// Workers that parse one round of chunks at a time on the thread pool:
// start() lets them claim the next `round_chunks` chunks of the source,
// finish() waits for them. The caller starts round r + 1 before it handles
// round r. Each worker keeps its parser (and its caches) across rounds.
class RoundParser {
 public:
  RoundParser(ChunkSource& source, const LineRules& rules, ServerDictionary& servers, int threads,
              int round_chunks, Progress& progress)
      : source_(source),
        round_chunks_(round_chunks),
        progress_(progress),
        workers_(static_cast<size_t>(threads)) {
    for (auto& w : workers_) w.parser = std::make_unique<LineParser>(rules, servers);
  }
  ~RoundParser() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    running_ = ThreadPool::Batch();  // waits for a round still in progress
  }
  RoundParser(const RoundParser&) = delete;
  RoundParser& operator=(const RoundParser&) = delete;

  // REQUIRES: the previous round was finished.
  void start() {
    {
      std::lock_guard lock(mutex_);
      claimed_ = 0;
    }
    running_ = ThreadPool::shared().start(static_cast<int>(workers_.size()), [this](int w) {
      try {
        parse_claimed(workers_[static_cast<size_t>(w)]);
      } catch (...) {
        std::lock_guard lock(mutex_);
        failed_ = true;  // the others stop claiming; the batch rethrows it
        throw;
      }
    });
  }

  // The partials of the round started last, sorted by chunk; rethrows the
  // first failure of a worker.
  std::vector<ChunkPartial> finish() {
    running_.wait();
    std::lock_guard lock(mutex_);
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
    for (const auto& w : workers_) total.add(w.accounting);
    return total;
  }

 private:
  struct Worker {
    std::unique_ptr<LineParser> parser;
    Chunk chunk;                // its read buffer
    LineAccounting accounting;  // read after the last round
  };

  void parse_claimed(Worker& worker) {
    while (true) {
      BucketTable table(0);
      {
        std::lock_guard lock(mutex_);
        if (stop_ || failed_ || claimed_ >= round_chunks_) return;
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
      if (!source_.claim(worker.chunk, range)) {
        std::lock_guard lock(mutex_);
        pool_.push_back(std::move(table));
        return;
      }
      LineAccounting& accounting = worker.accounting;
      source_.read_lines(range, worker.chunk, [&](std::string_view lines) {
        const int64_t accepted_before = accounting.accepted;
        worker.parser->parse(lines, table, accounting);
        progress_.advance(static_cast<int64_t>(lines.size()),
                          accounting.accepted - accepted_before);
      });
      std::lock_guard lock(mutex_);
      parsed_.push_back(ChunkPartial{worker.chunk.sequence, std::move(table)});
    }
  }

  ChunkSource& source_;
  const int round_chunks_;
  Progress& progress_;
  std::vector<Worker> workers_;  // each used by one pool thread at a time
  ThreadPool::Batch running_;    // the round in progress

  std::mutex mutex_;
  int claimed_ = 0;                   // guarded by mutex_
  bool stop_ = false;                 // guarded by mutex_
  bool failed_ = false;               // guarded by mutex_
  std::vector<ChunkPartial> parsed_;  // guarded by mutex_
  std::vector<BucketTable> pool_;     // guarded by mutex_
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
  const Stopwatch start;
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
  result.seconds = start.seconds();
  return result;
}

}  // namespace loadcast
