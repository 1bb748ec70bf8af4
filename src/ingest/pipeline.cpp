#include "ingest/pipeline.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/progress.h"
#include "ingest/line_parser.h"

namespace loadcast {

Layout resolve_layout(Layout configured, ChunkReader& reader, const std::string& first_input) {
  if (configured != Layout::kAuto) return configured;
  const auto detected = detect_layout(reader.peek(256 * 1024));
  if (!detected)
    fail_usage("layout 'auto': the first lines of '" + first_input +
               "' have neither 17 (sessions17) nor 16 (sessions16) fields; set 'layout' in the configuration");
  return *detected;
}

namespace {

// Chunks flow reader -> workers through `ready`; buffers come back through
// `free`. Merges happen in sequence order under `merge_mutex`.
class ChunkPipeline {
 public:
  ChunkPipeline(ChunkReader& reader, const LineRules& rules, ServerDictionary& servers,
                int threads, Progress& progress)
      : reader_(reader), rules_(rules), servers_(servers), threads_(threads), progress_(progress) {}

  void run(BucketTable& global, LineAccounting& accounting) {
    global_ = &global;
    for (int i = 0; i < threads_ + 2; ++i) free_.push_back(std::make_unique<Chunk>());
    std::vector<std::thread> workers;
    std::vector<LineAccounting> partial(threads_);
    for (int t = 0; t < threads_; ++t)
      workers.emplace_back([this, &partial, t] { guarded([&] { work(partial[t]); }); });
    guarded([&] { read(); });
    for (auto& w : workers) w.join();
    if (error_) std::rethrow_exception(error_);
    for (const auto& p : partial) accounting.add(p);
  }

 private:
  template <typename F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      done_ = true;
      cv_.notify_all();
      merge_cv_.notify_all();
    }
  }

  void read() {
    while (true) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !free_.empty() || error_; });
        if (error_) return;
        chunk = std::move(free_.back());
        free_.pop_back();
      }
      const bool more = reader_.next(*chunk);
      std::lock_guard lock(mutex_);
      if (!more) {
        done_ = true;
        cv_.notify_all();
        return;
      }
      ready_.push_back(std::move(chunk));
      cv_.notify_all();
    }
  }

  void work(LineAccounting& accounting) {
    LineParser parser(rules_, servers_);
    BucketTable local(1 << 16);
    while (true) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !ready_.empty() || done_; });
        if (ready_.empty() || error_) return;
        chunk = std::move(ready_.front());
        ready_.pop_front();
      }
      const int64_t accepted_before = accounting.accepted;
      local.clear();
      parser.parse(chunk->text(), local, accounting);
      const uint64_t sequence = chunk->sequence;
      const size_t bytes = chunk->size;
      {
        std::lock_guard lock(mutex_);
        free_.push_back(std::move(chunk));
        cv_.notify_all();
      }
      {
        std::unique_lock lock(merge_mutex_);
        merge_cv_.wait(lock, [&] { return next_merge_ == sequence || error_; });
        if (error_) return;
        global_->merge_from(local);
        ++next_merge_;
        merge_cv_.notify_all();
      }
      progress_.advance(static_cast<int64_t>(bytes), accounting.accepted - accepted_before);
    }
  }

  ChunkReader& reader_;
  const LineRules& rules_;
  ServerDictionary& servers_;
  int threads_;
  Progress& progress_;
  BucketTable* global_ = nullptr;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Chunk>> ready_;  // guarded by mutex_
  std::vector<std::unique_ptr<Chunk>> free_;  // guarded by mutex_
  bool done_ = false;                         // guarded by mutex_
  std::exception_ptr error_;                  // guarded by mutex_

  std::mutex merge_mutex_;
  std::condition_variable merge_cv_;
  uint64_t next_merge_ = 0;  // guarded by merge_mutex_
};

}  // namespace

IngestResult ingest(const Config& config, const IngestOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  IngestResult result;
  result.files = expand_inputs(config.data_file);
  result.servers = std::make_unique<ServerDictionary>();

  ChunkReader reader(result.files, options.chunk_bytes);
  result.layout = resolve_layout(config.layout, reader, result.files.front().path);

  LineRules rules;
  rules.layout = result.layout;
  rules.window_begin = config.train_begin;
  rules.window_end = config.train_end;
  rules.filter_ip = options.filter_ip;
  rules.filter_ips = config.filter_ips;

  int64_t total_bytes = 0;
  for (const auto& f : result.files) total_bytes = f.bytes < 0 || total_bytes < 0 ? -1 : total_bytes + f.bytes;
  Progress progress("etl: reading", total_bytes, options.progress);
  ChunkPipeline pipeline(reader, rules, *result.servers, std::max(1, options.threads), progress);
  pipeline.run(result.buckets, result.accounting);
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace loadcast
