#include "forest/binning.h"

#include <algorithm>
#include <thread>

#include "forest/sampling.h"

namespace loadcast::forest {
namespace {

constexpr uint64_t kSampleSalt = 0x51A7B1C5ULL;

// Runs fn(begin, end) over [0, n) in at most `threads` contiguous chunks of
// at least `grain` items.
template <typename Fn>
void parallel_ranges(size_t n, int threads, size_t grain, Fn fn) {
  const size_t workers = std::clamp<size_t>(threads, 1, std::max<size_t>(1, n / grain));
  if (workers == 1) {
    fn(size_t{0}, n);
    return;
  }
  std::vector<std::jthread> pool;
  const size_t chunk = (n + workers - 1) / workers;
  for (size_t w = 0; w < workers; ++w) {
    const size_t begin = std::min(n, w * chunk);
    pool.emplace_back(fn, begin, std::min(n, begin + chunk));
  }
}

// Spark's quantile walk over the sorted distinct values: a threshold is
// placed whenever the running count passes the next stride target.
FeatureSplits splits_of(std::vector<float>& sample, int max_bins) {
  FeatureSplits result;
  if (sample.empty()) return result;
  std::sort(sample.begin(), sample.end());
  std::vector<float> values;
  std::vector<int64_t> counts;
  for (float v : sample) {
    if (!values.empty() && values.back() == v) {
      ++counts.back();
    } else {
      values.push_back(v);
      counts.push_back(1);
    }
  }
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
  const double stride = static_cast<double>(sample.size()) / static_cast<double>(num_splits + 1);
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

std::vector<FeatureSplits> find_splits(const MatrixView& x, std::span<const uint64_t> row_keys,
                                       int max_bins, size_t sample_cap, int threads) {
  std::vector<size_t> sample_rows;
  if (x.rows <= sample_cap) {
    sample_rows.resize(x.rows);
    for (size_t r = 0; r < x.rows; ++r) sample_rows[r] = r;
  } else {
    // The rows with the sample_cap smallest key hashes: an order-free sample.
    std::vector<uint64_t> hashes(x.rows);
    for (size_t r = 0; r < x.rows; ++r) hashes[r] = mix64(row_keys[r] ^ kSampleSalt);
    std::vector<uint64_t> sorted = hashes;
    std::nth_element(sorted.begin(), sorted.begin() + (sample_cap - 1), sorted.end());
    const uint64_t cutoff = sorted[sample_cap - 1];
    for (size_t r = 0; r < x.rows; ++r) {
      if (hashes[r] <= cutoff) sample_rows.push_back(r);
    }
  }
  std::vector<FeatureSplits> splits(x.cols);
  parallel_ranges(x.cols, threads, 1, [&](size_t begin, size_t end) {
    std::vector<float> column(sample_rows.size());
    for (size_t c = begin; c < end; ++c) {
      for (size_t i = 0; i < sample_rows.size(); ++i) {
        column[i] = x.row(sample_rows[i])[c];
      }
      splits[c] = splits_of(column, max_bins);
    }
  });
  return splits;
}

BinnedMatrix bin_matrix(const MatrixView& x, std::span<const FeatureSplits> splits, int threads) {
  BinnedMatrix m;
  m.rows = x.rows;
  m.byte_offset.resize(x.cols);
  m.shift.resize(x.cols);
  m.mask.resize(x.cols);
  uint32_t bytes = 0;
  for (size_t c = 0; c < x.cols; ++c) {
    if (splits[c].num_bins() > 2) {
      m.byte_offset[c] = bytes++;
      m.mask[c] = 0xFF;
    }
  }
  uint32_t bits = 0;
  for (size_t c = 0; c < x.cols; ++c) {
    if (splits[c].num_bins() <= 2) {
      m.byte_offset[c] = bytes + bits / 8;
      m.shift[c] = static_cast<uint8_t>(bits % 8);
      m.mask[c] = 1;
      ++bits;
    }
  }
  m.stride = std::max<size_t>(1, bytes + (bits + 7) / 8);
  m.data.assign(m.rows * m.stride, 0);
  parallel_ranges(x.rows, threads, 4096, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const float* values = x.row(r);
      uint8_t* out = m.data.data() + r * m.stride;
      for (size_t c = 0; c < x.cols; ++c) {
        const auto& t = splits[c].thresholds;
        const auto b =
            static_cast<uint8_t>(std::lower_bound(t.begin(), t.end(), values[c]) - t.begin());
        out[m.byte_offset[c]] |= static_cast<uint8_t>(b << m.shift[c]);
      }
    }
  });
  return m;
}

}  // namespace loadcast::forest
