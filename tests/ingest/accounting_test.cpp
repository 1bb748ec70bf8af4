#include "ingest/accounting.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace loadcast {
namespace {

LineAccounting numbered() {
  LineAccounting a;
  int64_t next = 1;
  for_each_counter(a, [&](const CounterName&, int64_t& v) { v = next++; });
  return a;
}

TEST(LineAccounting, EveryCounterIsVisitedOnceWithADistinctName) {
  std::set<std::string> names;
  int count = 0;
  const LineAccounting empty;
  for_each_counter(empty, [&](const CounterName& c, int64_t) {
    names.insert(c.dotted());
    ++count;
  });
  EXPECT_EQ(count, kNumCounters);
  EXPECT_EQ(names.size(), static_cast<size_t>(kNumCounters));
  EXPECT_TRUE(names.count("rejected.bad_timestamp"));
  EXPECT_TRUE(names.count("missing_values.SecureBytes_Load"));
  EXPECT_TRUE(names.count("outside_window"));
}

TEST(LineAccounting, ValuesRoundTripAndAddCounterByCounter) {
  const LineAccounting a = numbered();
  EXPECT_EQ(counter_values(accounting_of(counter_values(a))), counter_values(a));
  LineAccounting sum = a;
  sum.add(a);
  const auto once = counter_values(a);
  const auto twice = counter_values(sum);
  for (int i = 0; i < kNumCounters; ++i) EXPECT_EQ(twice[i], 2 * once[i]) << i;
  EXPECT_EQ(a.accepted, 2);
  EXPECT_EQ(a.rejected[0], 6);
  EXPECT_EQ(a.bytes, kNumCounters);
}

TEST(LineAccounting, BalancedMeansLinesEqualFatesAndRejections) {
  LineAccounting a;
  a.accepted = 5;
  a.outside_window = 1;
  a.filtered_ip = 2;
  a.blank = 3;
  a.rejected = {1, 1, 1};
  a.missing_values[0] = 99;  // not lines
  a.bytes = 1000;
  a.lines = 14;
  EXPECT_TRUE(a.balanced());
  a.lines = 15;
  EXPECT_FALSE(a.balanced());
  a.lines = 14;
  EXPECT_EQ(describe(a),
            "lines 14: accepted 5, outside_window 1, filtered_ip 2, blank 3, field_count 1, "
            "bad_timestamp 1, bad_server_ip 1");
}

}  // namespace
}  // namespace loadcast
