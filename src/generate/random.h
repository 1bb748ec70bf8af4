// Deterministic randomness for the generator: stateless hashes for draws tied
// to (server, hour) and a small fast stream per time slice, so the output is a
// function of the seed and options only, never of thread scheduling.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/hash.h"

namespace loadcast::generate {

using loadcast::mix64;

constexpr uint64_t hash2(uint64_t a, uint64_t b) { return mix64(mix64(a) ^ b); }
constexpr uint64_t hash3(uint64_t a, uint64_t b, uint64_t c) { return hash2(hash2(a, b), c); }

// Uniform in [0, 1) from the top 53 bits.
constexpr double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// wyrand: one multiply per 64 random bits.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(mix64(seed)) {}

  uint64_t next() {
    state_ += 0xa0761d6478bd642full;
    __uint128_t product = static_cast<__uint128_t>(state_) * (state_ ^ 0xe7037ed1a0b428dbull);
    return static_cast<uint64_t>(product >> 64) ^ static_cast<uint64_t>(product);
  }
  double uniform() { return to_unit(next()); }
  // Uniform in [0, n).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * uint64_t{n}) >> 32); }
  double normal() {
    double u1 = 1.0 - uniform();  // (0, 1], keeps log finite
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Poisson(mean): exact by multiplication for small means, normal above.
  uint32_t poisson(double mean) {
    if (!(mean > 0)) return 0;
    if (mean < 30) {
      double limit = std::exp(-mean);
      double product = uniform();
      uint32_t k = 0;
      while (product > limit) {
        ++k;
        product *= uniform();
      }
      return k;
    }
    double x = mean + std::sqrt(mean) * normal() + 0.5;
    return x < 0 ? 0 : static_cast<uint32_t>(x);
  }

 private:
  uint64_t state_;
};

}  // namespace loadcast::generate

namespace loadcast::generate {

// The standard normal quantile (Acklam's rational approximation, relative
// error below 1.2e-9), for building tables of skewed draws.
inline double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  if (p < 0.02425) {
    double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normal_quantile(1 - p);
  double q = p - 0.5;
  double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace loadcast::generate
