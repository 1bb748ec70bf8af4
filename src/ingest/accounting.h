// The line accounting of SPEC §1: every physical line lands in exactly one
// bucket, and `lines = accepted + outside_window + filtered_ip + blank +
// Σ rejected` holds for every input. Counts add up across chunks, threads and
// ranks.
#pragma once

#include <array>
#include <cstdint>
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

  int64_t rejected_total() const { return rejected[0] + rejected[1] + rejected[2]; }
  // The identity of SPEC §1.
  bool balanced() const {
    return lines == accepted + outside_window + filtered_ip + blank + rejected_total();
  }
  void add(const LineAccounting& o) {
    lines += o.lines;
    accepted += o.accepted;
    outside_window += o.outside_window;
    filtered_ip += o.filtered_ip;
    blank += o.blank;
    for (int i = 0; i < kNumRejectReasons; ++i) rejected[i] += o.rejected[i];
    for (int i = 0; i < kNumMeasures; ++i) missing_values[i] += o.missing_values[i];
    bytes += o.bytes;
  }
};

}  // namespace loadcast
