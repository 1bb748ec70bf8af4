// An exact sum of doubles (a fixed-point accumulator over the whole double
// range): the result is the correctly rounded value of the true sum, so it
// does not depend on the order of the terms, on threads or on MPI ranks.
// Used where a floating sum must be reproducible whatever the split of rows.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace loadcast {

class ExactSum {
 public:
  // 32-bit limbs of the sum in units of 2^-1074 (the smallest subnormal),
  // enough for 2^63 terms of any finite magnitude.
  static constexpr int kLimbs = 69;

  // REQUIRES: x is finite.
  void add(double x);
  void add(const ExactSum& other);
  // The sum rounded to the nearest double (ties to even); +-inf on overflow.
  double value() const;

  // Canonical limbs for a sum-allreduce: every limb but the top one in
  // [0, 2^32), so element-wise sums over up to 2^31 ranks cannot overflow.
  // from_limbs accepts such sums.
  std::array<int64_t, kLimbs> limbs() const;
  static ExactSum from_limbs(std::span<const int64_t> limbs);

 private:
  void normalize();

  std::array<int64_t, kLimbs> limb_{};
  int64_t pending_ = 0;  // adds since the last carry propagation
};

}  // namespace loadcast
