#include "common/exact_sum.h"

#include <bit>
#include <cmath>

namespace loadcast {
namespace {

constexpr int kFractionBits = 1074;       // 2^-1074 is the unit of the accumulator
constexpr int64_t kCarryEvery = 1 << 30;  // adds of < 2^32 per limb before a carry pass

}  // namespace

void ExactSum::add(double x) {
  if (x == 0) return;
  int exponent = 0;
  // x = mantissa * 2^(exponent - 53) with an integer |mantissa| < 2^53.
  auto mantissa = static_cast<int64_t>(std::ldexp(std::frexp(x, &exponent), 53));
  int position = exponent - 53 + kFractionBits;
  if (position < 0) {
    // A subnormal: the low bits of the mantissa are zeros, so the shift is exact.
    mantissa >>= -position;
    position = 0;
  }
  const bool negative = mantissa < 0;
  const auto magnitude = static_cast<unsigned __int128>(negative ? -mantissa : mantissa)
                         << (position % 32);
  const int i = position / 32;
  for (int k = 0; k < 3; ++k) {
    const auto part = static_cast<int64_t>((magnitude >> (32 * k)) & 0xFFFFFFFFu);
    limb_[i + k] += negative ? -part : part;
  }
  if (++pending_ >= kCarryEvery) normalize();
}

void ExactSum::add(const ExactSum& other) {
  normalize();
  const auto theirs = other.limbs();
  for (int i = 0; i < kLimbs; ++i) limb_[i] += theirs[i];
  normalize();
}

void ExactSum::normalize() {
  for (int i = 0; i + 1 < kLimbs; ++i) {
    const int64_t carry = limb_[i] >> 32;  // floor division by 2^32
    limb_[i] -= carry * (int64_t{1} << 32);
    limb_[i + 1] += carry;
  }
  pending_ = 0;
}

std::array<int64_t, ExactSum::kLimbs> ExactSum::limbs() const {
  ExactSum copy = *this;
  copy.normalize();
  return copy.limb_;
}

ExactSum ExactSum::from_limbs(std::span<const int64_t> limbs) {
  ExactSum sum;
  for (size_t i = 0; i < limbs.size() && i < static_cast<size_t>(kLimbs); ++i)
    sum.limb_[i] = limbs[i];
  sum.normalize();
  return sum;
}

double ExactSum::value() const {
  auto limb = limbs();
  // Lower limbs are non-negative, so the top limb carries the sign.
  const bool negative = limb[kLimbs - 1] < 0;
  if (negative) {
    ExactSum flipped;
    for (int i = 0; i < kLimbs; ++i) flipped.limb_[i] = -limb[i];
    limb = flipped.limbs();
  }
  int top = kLimbs - 1;
  while (top >= 0 && limb[top] == 0) --top;
  if (top < 0) return 0.0;
  const int bits = 32 * top + static_cast<int>(std::bit_width(static_cast<uint64_t>(limb[top])));
  auto bit = [&](int pos) { return static_cast<uint64_t>(limb[pos / 32] >> (pos % 32)) & 1u; };

  double result = 0;
  if (bits <= 53) {
    // Exactly representable: at most 53 significant bits above 2^-1074.
    const uint64_t m = static_cast<uint64_t>(limb[0]) | (static_cast<uint64_t>(limb[1]) << 32);
    result = std::ldexp(static_cast<double>(m), -kFractionBits);
  } else {
    uint64_t m = 0;
    for (int pos = bits - 1; pos >= bits - 53; --pos) m = (m << 1) | bit(pos);
    const int round_pos = bits - 54;
    bool sticky = (static_cast<uint64_t>(limb[round_pos / 32]) &
                   ((uint64_t{1} << (round_pos % 32)) - 1)) != 0;
    for (int i = 0; i < round_pos / 32 && !sticky; ++i) sticky = limb[i] != 0;
    if (bit(round_pos) && (sticky || (m & 1u))) ++m;  // to nearest, ties to even
    result = std::ldexp(static_cast<double>(m), bits - 53 - kFractionBits);
  }
  return negative ? -result : result;
}

}  // namespace loadcast
