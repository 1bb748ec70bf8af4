#include "forest/binning.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "common/thread_pool.h"
#include "dist/wire.h"
#include "forest/sampling.h"

namespace loadcast::forest {
namespace {

constexpr uint64_t kSampleSalt = 0x51A7B1C5ULL;

// Spark's quantile walk over the sorted distinct values of a sample (with
// their counts): a threshold is placed whenever the running count passes the
// next stride target.
FeatureSplits splits_of(const std::vector<float>& values, const std::vector<int64_t>& counts,
                        int max_bins) {
  FeatureSplits result;
  if (values.empty()) return result;
  // The midpoint in float; if it rounds up onto the upper value, the lower
  // value itself separates the two.
  auto midpoint = [&](size_t i) {
    const float mid = static_cast<float>((static_cast<double>(values[i - 1]) + values[i]) / 2);
    return mid >= values[i] ? values[i - 1] : mid;
  };
  const size_t num_splits = static_cast<size_t>(max_bins - 1);
  if (values.size() - 1 <= num_splits) {
    for (size_t i = 1; i < values.size(); ++i) result.thresholds.push_back(midpoint(i));
    return result;
  }
  const int64_t sample_size = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  const double stride = static_cast<double>(sample_size) / static_cast<double>(num_splits + 1);
  double current = static_cast<double>(counts[0]);
  double target = stride;
  for (size_t i = 1; i < values.size() && result.thresholds.size() < num_splits; ++i) {
    const double previous = current;
    current += static_cast<double>(counts[i]);
    if (std::abs(previous - target) < std::abs(current - target)) {
      result.thresholds.push_back(midpoint(i));
      target += stride;
    }
  }
  return result;
}

}  // namespace

int FeatureSplits::bin_of(float value) const {
  return static_cast<int>(std::lower_bound(thresholds.begin(), thresholds.end(), value) -
                          thresholds.begin());
}

QuantileSample::QuantileSample(int64_t total_rows, size_t sample_cap)
    : all_rows_(static_cast<uint64_t>(total_rows) <= sample_cap),
      cutoff_(all_rows_ ? 0
                        : static_cast<uint64_t>((static_cast<unsigned __int128>(sample_cap) << 64) /
                                                static_cast<uint64_t>(total_rows))) {}

bool QuantileSample::takes(uint64_t row_key) const {
  return all_rows_ || mix64(row_key ^ kSampleSalt) < cutoff_;
}

void ValueCounts::add_sorted(std::span<const float> sorted) {
  for (float v : sorted) {
    if (!values.empty() && values.back() == v) {
      ++counts.back();
    } else {
      values.push_back(v == 0 ? 0.0f : v);
      counts.push_back(1);
    }
  }
}

void ValueCounts::add_binary(int64_t zeros, int64_t ones) {
  ValueCounts part;
  for (const auto& [value, count] : {std::pair{0.0f, zeros}, std::pair{1.0f, ones}}) {
    if (count == 0) continue;
    part.values.push_back(value);
    part.counts.push_back(count);
  }
  merge(part);
}

void ValueCounts::merge(const ValueCounts& other) {
  if (values.empty()) {
    *this = other;
    return;
  }
  ValueCounts out;
  size_t i = 0, j = 0;
  while (i < values.size() || j < other.values.size()) {
    if (j == other.values.size() || (i < values.size() && values[i] < other.values[j])) {
      out.values.push_back(values[i]);
      out.counts.push_back(counts[i++]);
    } else if (i == values.size() || other.values[j] < values[i]) {
      out.values.push_back(other.values[j]);
      out.counts.push_back(other.counts[j++]);
    } else {
      out.values.push_back(values[i]);
      out.counts.push_back(counts[i++] + other.counts[j++]);
    }
  }
  *this = std::move(out);
}

std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads) {
  auto local = dist::make_local_communicator();
  return find_splits(x, row_keys, max_bins, sample_cap, threads, *local);
}

std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads,
                                       dist::Communicator& comm) {
  std::array<int64_t, 1> total{static_cast<int64_t>(x.rows)};
  comm.allreduce_sum(total);
  const QuantileSample sample(total[0], sample_cap);
  std::vector<size_t> sample_rows;
  for (size_t r = 0; r < x.rows; ++r) {
    if (sample.takes(row_keys[r])) sample_rows.push_back(r);
  }
  std::vector<ValueCounts> local(x.cols);
  parallel_for(x.cols, threads, 1, [&](size_t begin, size_t end) {
    // Columns are copied out a cache line of each row at a time: one column
    // at a time would miss the cache on every value of a wide row.
    constexpr size_t kBlock = 16;
    std::vector<std::vector<float>> block(kBlock, std::vector<float>(sample_rows.size()));
    for (size_t c0 = begin; c0 < end; c0 += kBlock) {
      const size_t width = std::min(kBlock, end - c0);
      for (size_t i = 0; i < sample_rows.size(); ++i) {
        const float* row = x.row(sample_rows[i]) + c0;
        for (size_t j = 0; j < width; ++j) block[j][i] = row[j];
      }
      for (size_t j = 0; j < width; ++j) {
        auto& column = block[j];
        // One-hot and flag columns (0/1 only) are counted, not sorted.
        const auto ones = std::count(column.begin(), column.end(), 1.0f);
        const auto zeros = std::count(column.begin(), column.end(), 0.0f);
        if (static_cast<size_t>(ones + zeros) == column.size()) {
          local[c0 + j].add_binary(zeros, ones);
          continue;
        }
        std::sort(column.begin(), column.end());
        local[c0 + j].add_sorted(column);
      }
    }
  });
  return find_splits(std::move(local), max_bins, threads, comm);
}

std::vector<FeatureSplits> find_splits(std::vector<ValueCounts> local, int max_bins, int threads,
                                       dist::Communicator& comm) {
  // Each feature's local sample goes to the rank that owns it
  // (feature % ranks); the owner places its thresholds.
  const size_t cols = local.size();
  const int ranks = comm.size();
  std::vector<dist::ByteWriter> to_owner(ranks);
  for (size_t c = 0; c < cols; ++c) {
    auto& w = to_owner[c % ranks];
    w.put<uint32_t>(static_cast<uint32_t>(local[c].values.size()));
    for (size_t i = 0; i < local[c].values.size(); ++i)
      w.put(local[c].values[i]).put(local[c].counts[i]);
  }
  local.clear();
  std::vector<dist::Bytes> send;
  send.reserve(to_owner.size());
  for (auto& w : to_owner) send.push_back(w.take());
  const auto received = comm.alltoallv(send);

  // Owned columns, merged over ranks in rank order.
  std::vector<size_t> owned;
  for (size_t c = static_cast<size_t>(comm.rank()); c < cols; c += static_cast<size_t>(ranks))
    owned.push_back(c);
  std::vector<ValueCounts> merged(owned.size());
  for (const auto& bytes : received) {
    dist::ByteReader in(bytes);
    for (auto& column : merged) {
      ValueCounts part;
      const auto n = in.get<uint32_t>();
      for (uint32_t i = 0; i < n; ++i) {
        part.values.push_back(in.get<float>());
        part.counts.push_back(in.get<int64_t>());
      }
      column.merge(part);
    }
  }
  std::vector<FeatureSplits> mine(owned.size());
  parallel_for(owned.size(), threads, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      mine[i] = splits_of(merged[i].values, merged[i].counts, max_bins);
  });

  // Every rank gets every column's thresholds.
  dist::ByteWriter out;
  for (const auto& s : mine) {
    out.put<uint32_t>(static_cast<uint32_t>(s.thresholds.size()));
    for (float t : s.thresholds) out.put(t);
  }
  const auto all = comm.allgather(out.take());
  std::vector<FeatureSplits> splits(cols);
  for (int r = 0; r < ranks; ++r) {
    dist::ByteReader in(all[r]);
    for (size_t c = static_cast<size_t>(r); c < cols; c += static_cast<size_t>(ranks)) {
      const auto n = in.get<uint32_t>();
      for (uint32_t i = 0; i < n; ++i) splits[c].thresholds.push_back(in.get<float>());
    }
  }
  return splits;
}

}  // namespace loadcast::forest
