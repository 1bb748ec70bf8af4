// ExactSum: the correctly rounded sum whatever the order or the split of the
// terms, which the scaler's moments rely on across MPI ranks.
#include "common/exact_sum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace loadcast {
namespace {

double sum_of(std::initializer_list<double> terms) {
  ExactSum s;
  for (double t : terms) s.add(t);
  return s.value();
}

TEST(ExactSum, CancellationLosesNothing) {
  EXPECT_EQ(sum_of({1e16, 1.0, -1e16}), 1.0);  // a naive sum gives 0
  EXPECT_EQ(sum_of({1e308, 1e308, -1e308}), 1e308);
  EXPECT_EQ(sum_of({0.1, 0.2, -0.3}),
            std::ldexp(1.0, -55));  // the doubles' true sum; naively 2^-54
  EXPECT_EQ(sum_of({}), 0.0);
  EXPECT_EQ(sum_of({-2.5, 1.0}), -1.5);
}

TEST(ExactSum, RoundsToNearestTiesToEven) {
  const double two53 = 9007199254740992.0;                           // 2^53: spacing 2 above it
  EXPECT_EQ(sum_of({two53, 1.0}), two53);                            // a tie: to even
  EXPECT_EQ(sum_of({two53 + 2, 1.0}), two53 + 4);                    // a tie: to even, upwards
  EXPECT_EQ(sum_of({two53, 1.0, std::ldexp(1.0, -30)}), two53 + 2);  // past the tie
  EXPECT_EQ(sum_of({-two53, -1.0, -std::ldexp(1.0, -30)}), -(two53 + 2));
}

TEST(ExactSum, SubnormalsAndOverflow) {
  const double tiny = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(sum_of({tiny, tiny, tiny}), 3 * tiny);
  EXPECT_EQ(sum_of({1.0, tiny, -1.0}), tiny);
  EXPECT_EQ(sum_of({std::numeric_limits<double>::max(), std::numeric_limits<double>::max()}),
            std::numeric_limits<double>::infinity());
}

TEST(ExactSum, OrderAndSplitDoNotChangeABit) {
  std::mt19937_64 rng(7);
  std::vector<double> terms;
  for (int i = 0; i < 20000; ++i) {
    const double magnitude = std::ldexp(1.0, static_cast<int>(rng() % 80) - 40);
    terms.push_back((static_cast<double>(rng() % 1000000) / 1000.0 - 500.0) * magnitude);
  }
  ExactSum forward;
  for (double t : terms) forward.add(t);
  std::shuffle(terms.begin(), terms.end(), rng);
  ExactSum shuffled;
  for (double t : terms) shuffled.add(t);
  EXPECT_EQ(forward.value(), shuffled.value());

  // Three "ranks": element-wise sums of their limbs, as an allreduce does.
  std::array<int64_t, ExactSum::kLimbs> reduced{};
  for (int part = 0; part < 3; ++part) {
    ExactSum s;
    for (size_t i = part; i < terms.size(); i += 3) s.add(terms[i]);
    const auto limbs = s.limbs();
    for (int l = 0; l < ExactSum::kLimbs; ++l) reduced[l] += limbs[l];
  }
  EXPECT_EQ(ExactSum::from_limbs(reduced).value(), forward.value());

  ExactSum merged;
  ExactSum half;
  for (size_t i = 0; i < terms.size(); ++i) (i % 2 ? merged : half).add(terms[i]);
  merged.add(half);
  EXPECT_EQ(merged.value(), forward.value());
}

TEST(ExactSum, MatchesALongDoubleSumOfExactTerms) {
  // Integers below 2^40 sum exactly in long double (64-bit mantissa).
  ExactSum s;
  long double reference = 0;
  for (int64_t i = 0; i < 100000; ++i) {
    const double term =
        static_cast<double>((i * 2654435761LL) % (int64_t{1} << 40)) * (i % 2 ? 1 : -1);
    s.add(term);
    reference += term;
  }
  EXPECT_EQ(s.value(), static_cast<double>(reference));
}

}  // namespace
}  // namespace loadcast
