// The line accounting (docs/data-format.md): every physical line lands in
// exactly one bucket, and `lines = accepted + outside_window + filtered_ip +
// blank + Σ rejected` holds for every input. Counts add up across chunks,
// threads and ranks. The counters are listed once, in for_each_counter;
// everything that sums, reduces, writes or prints them iterates that list.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/layout.h"

namespace loadcast {

enum class Reject : int { kFieldCount = 0, kBadTimestamp = 1, kBadServerIp = 2 };
inline constexpr int kNumRejectReasons = 3;
inline constexpr std::array<std::string_view, kNumRejectReasons> kRejectNames = {
    "field_count", "bad_timestamp", "bad_server_ip"};

struct LineAccounting {
  int64_t lines = 0;
  int64_t accepted = 0;
  int64_t outside_window = 0;
  int64_t filtered_ip = 0;
  int64_t blank = 0;
  std::array<int64_t, kNumRejectReasons> rejected{};
  std::array<int64_t, kNumMeasures> missing_values{};  // only over accepted lines
  int64_t bytes = 0;

  int64_t rejected_total() const;
  // The identity above: lines equal the sum of the fates and rejections.
  bool balanced() const;
  void add(const LineAccounting& other);
};

// What a counter counts: all lines, the lines of one fate (accepted,
// outside the window, filtered, blank), the lines rejected for one reason,
// the missing values of one measure field, or the bytes read.
enum class CounterKind { kLines, kFate, kRejected, kMissing, kBytes };

// A counter's name: `group` is empty for the lines, fates and bytes, else
// "rejected" or "missing_values".
struct CounterName {
  CounterKind kind;
  std::string_view group;
  std::string_view name;
  // `group.name`, or `name` alone.
  std::string dotted() const;
};

// Every counter of `a`, in report order: the line fates, the rejections by
// reason, the missing values by field, then the bytes read.
template <class Accounting, class Fn>
void for_each_counter(Accounting& a, Fn&& fn) {
  using K = CounterKind;
  fn(CounterName{K::kLines, "", "lines"}, a.lines);
  fn(CounterName{K::kFate, "", "accepted"}, a.accepted);
  fn(CounterName{K::kFate, "", "outside_window"}, a.outside_window);
  fn(CounterName{K::kFate, "", "filtered_ip"}, a.filtered_ip);
  fn(CounterName{K::kFate, "", "blank"}, a.blank);
  for (int r = 0; r < kNumRejectReasons; ++r)
    fn(CounterName{K::kRejected, "rejected", kRejectNames[r]}, a.rejected[r]);
  for (int m = 0; m < kNumMeasures; ++m)
    fn(CounterName{K::kMissing, "missing_values", kMeasureFieldNames[m]}, a.missing_values[m]);
  fn(CounterName{K::kBytes, "", "bytes"}, a.bytes);
}

inline constexpr int kNumCounters = 5 + kNumRejectReasons + kNumMeasures + 1;
// The counters as one array, in for_each_counter order, and back.
std::array<int64_t, kNumCounters> counter_values(const LineAccounting& a);
LineAccounting accounting_of(const std::array<int64_t, kNumCounters>& values);

// One line for people: "lines 52: accepted 44, outside_window 2, ...,
// bad_server_ip 1" (the line fates and rejections, not the missing values).
std::string describe(const LineAccounting& a);

}  // namespace loadcast
