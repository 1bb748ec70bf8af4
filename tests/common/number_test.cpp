#include "common/number.h"

#include <gtest/gtest.h>

#include <cmath>

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
  for (const char* bad : {"", "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "abc", "1,0",
                          "+-1", "--1", "1 ", " 1", "0x10", "+", "-"}) {
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

}  // namespace
}  // namespace loadcast
