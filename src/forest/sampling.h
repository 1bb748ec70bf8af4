// Counter-based randomness for the forest: every random choice (bootstrap
// weight of a row in a tree, feature subset of a node, quantile sample) is a
// pure function of (seed, counters, row key), so training does not depend on
// row order, thread count or rank count.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/hash.h"

namespace loadcast::forest {

using loadcast::mix64;

constexpr uint64_t hash3(uint64_t a, uint64_t b, uint64_t c) {
  return mix64(mix64(mix64(a) ^ b) ^ c);
}

// A row's identity: FNV-1a of the server key, mixed with the hour.
constexpr uint64_t row_key(std::string_view server, int64_t hour) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char ch : server) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001B3ULL;
  }
  return mix64(h ^ mix64(static_cast<uint64_t>(hour)));
}

// Uniform in [0, 1) from the top 53 bits.
inline double unit_double(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// Poisson(mean) by inversion of a uniform draw, capped at 255: the
// cumulative probabilities are summed once, in the order a draw would sum
// them, so a table draw equals the direct one bit for bit.
class PoissonTable {
 public:
  explicit PoissonTable(double mean) {
    double p = std::exp(-mean);
    cdf_.push_back(p);
    for (int k = 1; k < 256; ++k) {
      p *= mean / k;
      cdf_.push_back(cdf_.back() + p);
      if (p == 0) break;
    }
  }
  int draw(double u) const {
    const int last = static_cast<int>(cdf_.size()) - 1;
    for (int k = 0; k < last; ++k) {
      if (u < cdf_[static_cast<size_t>(k)]) return k;
    }
    return last;
  }

 private:
  std::vector<double> cdf_;  // after k terms, k = 0 .. the cap or the first zero term
};

inline int poisson_from_uniform(double u, double mean) { return PoissonTable(mean).draw(u); }

// A small sequential generator for per-node choices, seeded by a hash.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound), bound > 0 (Lemire's multiply-shift; the tiny bias
  // is irrelevant here and keeps it branch-free and deterministic).
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace loadcast::forest
