// Options of `loadcast generate`: every parameter declared once, with its
// default and bounds, plus the parsers that turn command-line text into them.
// Validation names the offending option, so the CLI and the library agree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/layout.h"

namespace loadcast::generate {

struct GenerateOptions {
  // First and last second written, inclusive, UTC epoch seconds. Default: the
  // ONE_MONTH window, 2016-06-01 00:00:00 .. 2016-06-30 23:59:59.
  int64_t start = 1464739200;
  int64_t end = 1467331199;
  // Fleet size, 2 .. 100000; 0 picks it from `size` so that each server sees
  // about 50 sessions an hour (8 .. 2000 servers; past 2000 the servers get
  // busier instead, which keeps the per-slice planning cheap).
  int servers = 0;
  // Bytes to write, honoured within a few percent; default 100M (100 MiB).
  uint64_t size = uint64_t{100} << 20;
  // Share of all lines that are dirty, 0 .. 1.
  double dirty_rate = 0.01;
  // sessions17 or sessions16 (SPEC §1); auto is not a layout one can write.
  Layout layout = Layout::kSessions17;
  uint64_t seed = 1;
  // Worker threads, 0 .. 1024; 0 = one per hardware thread. The output is the
  // same for every value.
  int threads = 0;
};

// Throws Failure(kUsage) naming the option when a value is out of bounds.
void validate(const GenerateOptions& options);

// Byte counts with an optional binary suffix: 5000, 64K, 100M, 1.5G, 2T; a
// trailing B or iB is allowed (10MB, 10MiB). nullopt for anything else.
std::optional<uint64_t> parse_size(std::string_view text);
// The shortest text parse_size reads back to the same count (100M, 1G, 1234).
std::string format_size(uint64_t bytes);

// `sessions17` or `sessions16`.
std::optional<Layout> parse_layout(std::string_view text);
std::string_view layout_text(Layout layout);

// A timestamp of SPEC §1 or a bare date `YYYY-MM-DD`, which means the start
// of that day, or its last second when `end_of_day` is set. Epoch seconds,
// fractions truncated.
std::optional<int64_t> parse_window_time(std::string_view text, bool end_of_day);

// The fleet size used when `servers` is 0.
int default_servers(const GenerateOptions& options);

}  // namespace loadcast::generate
