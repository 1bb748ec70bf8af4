#include "generate/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "common/stopwatch.h"
#include "common/thread_pool.h"
#include "common/time.h"
#include "generate/fleet.h"
#include "generate/line_writer.h"
#include "generate/random.h"

namespace loadcast::generate {

namespace {

// A slice is the unit of parallel work and of output: an hour, an even part
// of one, or a run of hours that divides a day, whichever comes closest to
// this size without exceeding it. Slices never cross a UTC day.
constexpr uint64_t kSliceBytes = uint64_t{8} << 20;
constexpr int kHourGroups[] = {24, 12, 8, 6, 4, 3, 2};
constexpr int kDivisorsOf3600[] = {1,   2,   3,   4,   5,   6,   8,    9,    10,  12,  15,  16,
                                   18,  20,  24,  25,  30,  36,  40,   45,   48,  50,  60,  72,
                                   75,  80,  90,  100, 120, 144, 150,  180,  200, 225, 240, 300,
                                   360, 400, 450, 600, 720, 900, 1200, 1800, 3600};

// Sizing: the mean line length is measured on a sample of slices spread over
// the window, twice (per-session loads, and so their digits, depend on the
// session rate the first measurement sets).
constexpr uint64_t kCalibrationLines = 40000;
constexpr int kCalibrationRounds = 2;
// Beyond this many server-hours the expected session count is estimated from
// a stride of hours coprime to the week.
constexpr uint64_t kPlanningCells = uint64_t{4} << 20;
// Slices generated ahead of the writer, per worker thread.
constexpr int kAheadPerThread = 3;
// Dirty kinds are equally likely, except that lines outside the window are
// half as common as each other kind.
constexpr uint64_t kDirtyWeightTotal = 2 * (kDirtyKindCount - 1) + 1;

constexpr int kLoadTableSize = 4096;
constexpr double kLoadSigma = 0.5;
constexpr int kDurationTableSize = 1024;
constexpr double kDurationMedianSeconds = 600;
constexpr double kDurationSigma = 1.1;
constexpr double kMaxDurationSeconds = 6 * 3600;

// Per-session draws: load multipliers (lognormal, mean 1) and session lengths.
struct SessionTables {
  std::array<double, kLoadTableSize> load{};
  std::array<uint32_t, kDurationTableSize> duration{};
};

const SessionTables& session_tables() {
  static const SessionTables tables = [] {
    SessionTables t;
    for (int i = 0; i < kLoadTableSize; ++i) {
      double z = normal_quantile((i + 0.5) / kLoadTableSize);
      t.load[i] = std::exp(kLoadSigma * z - kLoadSigma * kLoadSigma / 2);
    }
    for (int i = 0; i < kDurationTableSize; ++i) {
      double z = normal_quantile((i + 0.5) / kDurationTableSize);
      double seconds = kDurationMedianSeconds * std::exp(kDurationSigma * z);
      t.duration[i] = static_cast<uint32_t>(std::clamp(seconds, 1.0, kMaxDurationSeconds));
    }
    return t;
  }();
  return tables;
}

// The bytes of one slice. Reused across slices, so it grows once and is never
// zero-filled.
struct SliceOutput {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  size_t capacity = 0;
  uint64_t lines = 0;
  uint64_t dirty = 0;
  int64_t first_second = 0;

  void reset(int64_t first) {
    size = 0;
    lines = 0;
    dirty = 0;
    first_second = first;
  }
  char* room(size_t bytes) {
    if (size + bytes > capacity) {
      size_t grown = std::max({size + bytes, capacity * 2, size_t{1} << 16});
      auto fresh = std::make_unique_for_overwrite<char[]>(grown);
      if (size) std::memcpy(fresh.get(), data.get(), size);
      data = std::move(fresh);
      capacity = grown;
    }
    return data.get() + size;
  }
  void append(std::string_view text) {
    std::memcpy(room(text.size()), text.data(), text.size());
    size += text.size();
  }
};

// Working memory of one worker.
struct Scratch {
  std::vector<uint32_t> second;  // per drawn session: second of the hour
  std::vector<uint32_t> server;
  std::vector<uint32_t> order;    // session indices in time order
  std::vector<uint32_t> count;    // per second of the slice
  std::vector<uint64_t> keys;     // second << 32 | index, for sparse slices
  std::vector<double> mean_load;  // per server, for this hour
  std::string dirty;
};

class SliceGenerator {
 public:
  explicit SliceGenerator(const GenerateOptions& o)
      : o_(o),
        fleet_(o.seed, o.servers > 0 ? o.servers : default_servers(o), o.start, o.end),
        writer_(fleet_, o.layout, o.start, o.end),
        first_hour_(floor_div(o.start, kSecondsPerHour)),
        hours_(floor_div(o.end, kSecondsPerHour) - first_hour_ + 1) {
    double bytes_per_hour = static_cast<double>(o.size) / static_cast<double>(hours_);
    for (int g : kHourGroups) {
      if (bytes_per_hour * g <= kSliceBytes) {
        hours_per_slice_ = g;
        break;
      }
    }
    if (hours_per_slice_ == 1) {
      slices_per_hour_ = 3600;
      for (int d : kDivisorsOf3600) {
        if (bytes_per_hour / d <= kSliceBytes) {
          slices_per_hour_ = d;
          break;
        }
      }
    }
    first_group_ = floor_div(first_hour_, hours_per_slice_);
    slice_count_ = hours_per_slice_ > 1
                       ? floor_div(first_hour_ + hours_ - 1, hours_per_slice_) - first_group_ + 1
                       : hours_ * slices_per_hour_;
    dirty_threshold_ =
        o.dirty_rate >= 1 ? UINT64_MAX : static_cast<uint64_t>(o.dirty_rate * 0x1p64);
  }
  SliceGenerator(const SliceGenerator&) = delete;
  SliceGenerator& operator=(const SliceGenerator&) = delete;

  int64_t slice_count() const { return slice_count_; }
  int servers() const { return static_cast<int>(fleet_.servers().size()); }
  // Sessions per hour = rate_scale x server rate x activity.
  void set_rate_scale(double scale) { rate_scale_ = scale; }

  // Expected number of sessions in the window at rate_scale 1.
  double unit_sessions() const {
    const auto& servers = fleet_.servers();
    uint64_t cells = static_cast<uint64_t>(hours_) * servers.size();
    int64_t stride = 1;
    if (cells > kPlanningCells) {
      stride = static_cast<int64_t>((cells + kPlanningCells - 1) / kPlanningCells);
      while (std::gcd(stride, int64_t{168}) != 1) ++stride;
    }
    double sum = 0;
    for (int64_t h = first_hour_ + stride / 2; h < first_hour_ + hours_; h += stride) {
      int64_t begin = std::max(h * kSecondsPerHour, o_.start);
      int64_t end = std::min((h + 1) * kSecondsPerHour, o_.end + 1);
      double coverage = static_cast<double>(end - begin) / kSecondsPerHour;
      for (const Server& s : servers) sum += s.rate * fleet_.activity(s, h) * coverage;
    }
    return sum * static_cast<double>(stride);
  }

  void generate(int64_t index, SliceOutput& out, Scratch& sc) const {
    if (hours_per_slice_ > 1) {
      const int64_t first = (first_group_ + index) * hours_per_slice_;
      out.reset(std::max(first * kSecondsPerHour, o_.start));
      for (int64_t hour = first; hour < first + hours_per_slice_; ++hour) {
        generate_piece(hour, 0, out, sc);
      }
    } else {
      const int64_t hour = first_hour_ + index / slices_per_hour_;
      const int64_t sub = index % slices_per_hour_;
      out.reset(
          std::max(hour * kSecondsPerHour + sub * (kSecondsPerHour / slices_per_hour_), o_.start));
      generate_piece(hour, sub, out, sc);
    }
  }

 private:
  // Appends the sessions of part `sub` of an hour (of slices_per_hour_ parts)
  // that lie in the window. Each part has its own random stream, so grouping
  // hours into slices does not change the bytes.
  void generate_piece(int64_t hour, int64_t sub, SliceOutput& out, Scratch& sc) const {
    const int64_t length = kSecondsPerHour / slices_per_hour_;
    const int64_t hour_start = hour * kSecondsPerHour;
    const int64_t begin = std::max(hour_start + sub * length, o_.start);
    const int64_t end = std::min(hour_start + (sub + 1) * length, o_.end + 1);
    if (begin >= end) return;

    Rng rng(hash3(o_.seed, static_cast<uint64_t>(hour), static_cast<uint64_t>(sub)));
    const double coverage = static_cast<double>(end - begin) / kSecondsPerHour;
    const auto span = static_cast<uint32_t>(end - begin);
    const auto offset = static_cast<uint32_t>(begin - hour_start);
    const auto& servers = fleet_.servers();
    sc.second.clear();
    sc.server.clear();
    sc.mean_load.resize(servers.size());
    for (uint32_t i = 0; i < servers.size(); ++i) {
      double activity = fleet_.activity(servers[i], hour);
      if (activity <= 0) continue;
      double per_hour = rate_scale_ * servers[i].rate * activity;
      uint32_t n = rng.poisson(per_hour * coverage);
      if (n == 0) continue;
      sc.mean_load[i] = servers[i].peak_scale * activity / expected_peak_bucket_sessions(per_hour);
      for (uint32_t j = 0; j < n; ++j) {
        sc.second.push_back(offset + rng.below(span));
        sc.server.push_back(i);
      }
    }
    sort_by_second(offset, span, sc);

    const SessionTables& tables = session_tables();
    static constexpr uint8_t kGrades[] = {1, 1, 2, 3};
    Session s;
    for (uint32_t j : sc.order) {
      const uint32_t i = sc.server[j];
      const Server& server = servers[i];
      const uint64_t r1 = rng.next(), r2 = rng.next(), r3 = rng.next(), r4 = rng.next();
      s.start = hour_start + sc.second[j];
      s.server = i;
      double load = sc.mean_load[i] * tables.load[r1 & (kLoadTableSize - 1)] +
                    static_cast<double>(r1 >> 32) * 0x1p-32;  // stochastic rounding
      s.total_load = load < 1 ? 1 : (load > 4e9 ? 4000000000u : static_cast<uint32_t>(load));
      s.end = s.start + tables.duration[(r1 >> 12) & (kDurationTableSize - 1)];
      s.traffic = static_cast<uint8_t>(((r1 >> 22) & 7) < 6 ? server.traffic : (r1 >> 25) & 3);
      s.grade = kGrades[(r1 >> 27) & 3];
      s.http1 = ((r1 >> 29) & 7) < 3 ? 1 : 0;
      s.server_type = server.server_type;
      const uint64_t total = s.total_load;
      for (int k = 0; k < 5; ++k) {
        s.sub_load[k] = static_cast<uint32_t>((total * ((r2 >> (8 * k)) & 255)) >> 10);
      }
      s.secure_load = static_cast<uint32_t>((total * ((r2 >> 40) & 255)) >> 9);
      s.mbytes_centi =
          static_cast<uint32_t>(std::min<uint64_t>(total * (20 + ((r2 >> 48) & 255)), 4000000000u));
      s.connections = static_cast<uint32_t>(1 + total / 16 + ((r2 >> 56) & 15));
      uint32_t first_octet = 1 + static_cast<uint32_t>((r3 >> 24) & 255) % 223;
      if (first_octet == 127) first_octet = 10;
      s.client_ip = (first_octet << 24) | static_cast<uint32_t>(r3 & 0xffffff);
      if (r4 < dirty_threshold_) {
        uint64_t pick = (r3 >> 32) % kDirtyWeightTotal;
        auto kind = static_cast<DirtyKind>(std::min<uint64_t>(pick / 2, kDirtyKindCount - 1));
        sc.dirty.clear();
        writer_.append_dirty(sc.dirty, s, kind, mix64(r4));
        out.append(sc.dirty);
        ++out.dirty;
      } else {
        char* p = out.room(LineWriter::kMaxCleanLine);
        out.size = static_cast<size_t>(writer_.write_clean(p, s) - out.data.get());
      }
      ++out.lines;
    }
  }

  // sc.order = session indices by second, ties in draw order: a counting sort
  // over the span's seconds, or a comparison sort when sessions are sparse.
  static void sort_by_second(uint32_t offset, uint32_t span, Scratch& sc) {
    const auto n = static_cast<uint32_t>(sc.second.size());
    sc.order.resize(n);
    if (uint64_t{n} * 8 < span) {
      sc.keys.resize(n);
      for (uint32_t j = 0; j < n; ++j) sc.keys[j] = (uint64_t{sc.second[j]} << 32) | j;
      std::sort(sc.keys.begin(), sc.keys.end());
      for (uint32_t j = 0; j < n; ++j) sc.order[j] = static_cast<uint32_t>(sc.keys[j]);
      return;
    }
    sc.count.assign(span + 1, 0);
    for (uint32_t s : sc.second) ++sc.count[s - offset + 1];
    for (uint32_t k = 1; k <= span; ++k) sc.count[k] += sc.count[k - 1];
    for (uint32_t j = 0; j < n; ++j) sc.order[sc.count[sc.second[j] - offset]++] = j;
  }

  GenerateOptions o_;
  Fleet fleet_;
  LineWriter writer_;
  int64_t first_hour_;
  int64_t hours_;
  int64_t hours_per_slice_ = 1;  // > 1: a slice is this many hours
  int64_t slices_per_hour_ = 1;  // > 1: a slice is this part of an hour
  int64_t first_group_ = 0;      // first slice's start hour / hours_per_slice_
  int64_t slice_count_ = 0;
  double rate_scale_ = 0;
  uint64_t dirty_threshold_ = 0;
};

// Sets the session rate so that the expected output is `size` bytes.
void calibrate(SliceGenerator& gen, uint64_t size) {
  const double unit = gen.unit_sessions();
  double bytes_per_line = kBytesPerLineGuess;
  SliceOutput out;
  Scratch sc;
  for (int round = 0; round < kCalibrationRounds; ++round) {
    gen.set_rate_scale(static_cast<double>(size) / bytes_per_line / unit);
    uint64_t bytes = 0, lines = 0;
    // Golden-ratio steps spread the sample over the window and the day.
    for (int64_t j = 0; j < gen.slice_count() && lines < kCalibrationLines; ++j) {
      double position = std::fmod(0.5 + static_cast<double>(j) * 0.6180339887498949, 1.0);
      gen.generate(static_cast<int64_t>(position * static_cast<double>(gen.slice_count())), out,
                   sc);
      bytes += out.size;
      lines += out.lines;
    }
    if (lines > 0) bytes_per_line = static_cast<double>(bytes) / static_cast<double>(lines);
  }
  gen.set_rate_scale(static_cast<double>(size) / bytes_per_line / unit);
}

using Deliver = std::function<void(const SliceOutput&)>;

// Workers on the thread pool claim slices in order, at most `window` ahead
// of the writer (this thread), which hands them to the sink strictly in
// slice order.
void run_parallel(const SliceGenerator& gen, int threads, const Deliver& deliver) {
  const int64_t total = gen.slice_count();
  const int64_t window = int64_t{threads} * kAheadPerThread;
  std::vector<std::unique_ptr<SliceOutput>> slots(static_cast<size_t>(window));
  std::vector<std::unique_ptr<SliceOutput>> spare;
  std::mutex mutex;
  std::condition_variable ready, space;
  int64_t next_claim = 0, next_write = 0;
  bool stop = false;
  std::exception_ptr failure;

  auto worker = [&] {
    Scratch sc;
    for (;;) {
      int64_t index;
      std::unique_ptr<SliceOutput> out;
      {
        std::unique_lock lock(mutex);
        space.wait(lock,
                   [&] { return stop || next_claim >= total || next_claim < next_write + window; });
        if (stop || next_claim >= total) return;
        index = next_claim++;
        if (!spare.empty()) {
          out = std::move(spare.back());
          spare.pop_back();
        }
      }
      try {
        if (!out) out = std::make_unique<SliceOutput>();
        gen.generate(index, *out, sc);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
        ready.notify_all();
        space.notify_all();
        return;
      }
      {
        std::lock_guard lock(mutex);
        slots[static_cast<size_t>(index % window)] = std::move(out);
      }
      ready.notify_all();
    }
  };

  ThreadPool::Batch workers;
  auto stop_and_join = [&] {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    space.notify_all();
    workers.wait();  // the workers keep their failures in `failure`
  };
  try {
    workers = ThreadPool::shared().start(threads, [&](int) { worker(); });
    for (int64_t i = 0; i < total; ++i) {
      std::unique_ptr<SliceOutput> out;
      {
        std::unique_lock lock(mutex);
        auto& slot = slots[static_cast<size_t>(i % window)];
        ready.wait(lock, [&] { return failure || slot; });
        if (!slot) break;
        out = std::move(slot);
      }
      deliver(*out);
      {
        std::lock_guard lock(mutex);
        next_write = i + 1;
        spare.push_back(std::move(out));
      }
      space.notify_all();
    }
  } catch (...) {
    stop_and_join();
    throw;
  }
  stop_and_join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

GenerateStats generate(const GenerateOptions& options, Sink& sink, const ProgressFn& progress) {
  validate(options);
  const Stopwatch started;
  auto elapsed = [&] { return started.seconds(); };

  SliceGenerator gen(options);
  calibrate(gen, options.size);

  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<int64_t>(threads, gen.slice_count()));

  GenerateStats stats;
  stats.servers = gen.servers();
  Deliver deliver = [&](const SliceOutput& out) {
    if (out.size > 0)
      sink.write(Chunk{out.first_second, std::string_view(out.data.get(), out.size)});
    stats.bytes += out.size;
    stats.lines += out.lines;
    stats.dirty_lines += out.dirty;
    if (progress) {
      stats.seconds = elapsed();
      progress(stats);
    }
  };
  if (threads <= 1) {
    SliceOutput out;
    Scratch sc;
    for (int64_t i = 0; i < gen.slice_count(); ++i) {
      gen.generate(i, out, sc);
      deliver(out);
    }
  } else {
    run_parallel(gen, threads, deliver);
  }
  sink.finish();
  stats.seconds = elapsed();
  return stats;
}

}  // namespace loadcast::generate
