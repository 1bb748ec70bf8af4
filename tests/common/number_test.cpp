#include "common/number.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace loadcast {
namespace {

TEST(NumberTest, ParsesPlainDecimalsWithCorrectRounding) {
  EXPECT_EQ(parse_decimal("40"), 40.0);
  EXPECT_EQ(parse_decimal("-2.5"), -2.5);
  EXPECT_EQ(parse_decimal("+7"), 7.0);
  EXPECT_EQ(parse_decimal("1.5e2"), 150.0);
  EXPECT_EQ(parse_decimal("0.30000000000000004"), 0.30000000000000004);
  EXPECT_GT(*parse_decimal("1000.0000000000001"), 1e3);
  EXPECT_EQ(parse_decimal("1e-400"), 0.0);  // underflow
}

TEST(NumberTest, MissingValues) {
  for (const char* bad : {"", "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "abc",
                          "1,0", "+-1", "--1", "1 ", " 1", "0x10", "+", "-"}) {
    EXPECT_FALSE(parse_decimal(bad).has_value()) << bad;
  }
}

TEST(NumberTest, WritesShortestRoundTrip) {
  EXPECT_EQ(format_double(90), "90.0");
  EXPECT_EQ(format_double(-0.0), "-0.0");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(25.791666666666668), "25.791666666666668");
  for (double v : {0.003650467716176135, 1e-7, 123456789.125, 1e300, 5e-324}) {
    EXPECT_EQ(*parse_decimal(format_double(v)), v);
  }
}

// What append_double must write: std::to_chars' text, and ".0" after a
// number in fixed notation without a point.
std::string reference(double value) {
  char buffer[32];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, r.ptr);
  if (text.find_first_of(".ein") == std::string::npos) text += ".0";
  return text;
}

// Whole numbers take a path of their own; it must write what std::to_chars
// does (fixed unless scientific is shorter, ties to fixed) plus the ".0" of
// fixed notation, for every count of digits and of trailing zeros.
TEST(NumberTest, WholeNumbersAreWrittenAsToCharsWritesThem) {
  std::mt19937_64 random(7);
  std::vector<double> values = {0.0,
                                -0.0,
                                1,
                                -1,
                                9,
                                10,
                                1e14,
                                1e15,
                                -1e15,
                                1e15 - 1,
                                1e15 + 2,
                                999999999999999.0,
                                4503599627370496.0,
                                9007199254740993.0,
                                0.5,
                                -2.5,
                                1e16,
                                123e20};
  for (int digits = 1; digits <= 17; ++digits) {
    for (int zeros = 0; zeros < digits; ++zeros) {
      for (int k = 0; k < 200; ++k) {
        // `digits` digits, the last `zeros` of them zero, the one before not.
        uint64_t n = 1 + random() % 9;
        for (int d = 1; d < digits - zeros; ++d) n = n * 10 + random() % 10;
        if (digits - zeros > 1 && n % 10 == 0) n += 1 + random() % 9;
        for (int z = 0; z < zeros; ++z) n *= 10;
        values.push_back(static_cast<double>(n));
        values.push_back(-static_cast<double>(n));
      }
    }
  }
  // Every small whole number (their texts come from a table), and values
  // next to them that are not whole.
  for (int n = 0; n <= 10001; ++n) {
    values.push_back(n);
    values.push_back(n + 0.5);
    values.push_back(std::nextafter(static_cast<double>(n), 0.0));
  }
  for (double v : values) EXPECT_EQ(format_double(v), reference(v)) << v;
}

// Texts of values that are not small whole numbers are remembered per
// thread, in 64 slots: a value must get its own text whether it is new, seen
// just before, or pushed out of its slot by another, and on every thread.
TEST(NumberTest, RememberedTextsAreAlwaysTheValuesOwn) {
  std::mt19937_64 random(11);
  std::vector<double> values = {-0.0,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::max(),
                                1e15,
                                123e20};
  for (int k = 0; k < 20000; ++k) {
    uint64_t bits = random();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    values.push_back(v);
    values.push_back(static_cast<double>(random() % 10000000) / 100.0);
    values.push_back(static_cast<double>(random() % 1000000) / 7.0);
  }
  const auto check = [&](int seed) {
    std::mt19937_64 pick(static_cast<uint64_t>(seed));
    int wrong = 0;
    for (int k = 0; k < 200000; ++k) {
      // Mostly the last few values again (the daily lags), sometimes any.
      const size_t i = k % 4 == 0 ? pick() % values.size() : pick() % 8;
      // Appended after other text, and put on its own.
      std::string text = "x";
      append_double(text, values[i]);
      char put[kMaxDoubleChars];
      const std::string_view direct(put, static_cast<size_t>(put_double(put, values[i]) - put));
      const std::string expected = reference(values[i]);
      wrong += std::string_view(text).substr(1) != expected || direct != expected;
    }
    return wrong;
  };
  std::vector<int> wrong(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&, t] { wrong[t] = check(t); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, std::vector<int>(3, 0));
}

// The eight-bytes-at-a-time parser of the ingest must agree with the scalar
// one on every text it accepts, and accept every text the scalar one accepts
// that it is meant for (at most 8 bytes, no sign).
TEST(NumberTest, ShortDecimalAgreesWithTheScalarPath) {
  const std::string alphabet = "0123456789.-+e/:, \x00\xff";
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {
    const size_t n = 1 + rng() % 8;
    std::string text;
    for (size_t k = 0; k < n; ++k) {
      // Mostly digits and dots, so that valid numbers are common.
      text += rng() % 4 ? "0123456789."[rng() % 11] : alphabet[rng() % alphabet.size()];
    }
    char padded[16];
    std::memset(padded, '7', sizeof padded);  // bytes past the text must not matter
    std::memcpy(padded, text.data(), n);
    double fast = -1, scalar = -1;
    const bool fast_ok = number_detail::parse_short_decimal(padded, n, fast);
    const bool scalar_ok =
        number_detail::parse_simple_decimal(text.data(), text.data() + n, scalar);
    const bool meant = text.find_first_of("-+") == std::string::npos;
    ASSERT_EQ(fast_ok, scalar_ok && meant) << text;
    if (fast_ok) {
      ASSERT_EQ(std::bit_cast<uint64_t>(fast), std::bit_cast<uint64_t>(scalar)) << text;
    }
  }
  double v;
  EXPECT_TRUE(number_detail::parse_short_decimal("12345678", 8, v));
  EXPECT_EQ(v, 12345678.0);
  EXPECT_TRUE(number_detail::parse_short_decimal("106.25,2", 6, v));
  EXPECT_EQ(v, 106.25);
  EXPECT_TRUE(number_detail::parse_short_decimal(".5xxxxxx", 2, v));
  EXPECT_EQ(v, 0.5);
  EXPECT_FALSE(number_detail::parse_short_decimal(".,xxxxxx", 1, v));
  EXPECT_FALSE(number_detail::parse_short_decimal("1.2.3xxx", 5, v));
}

}  // namespace
}  // namespace loadcast
