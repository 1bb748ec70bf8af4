// Options of `loadcast generate`, each declared once (generate_params) with
// its default, bounds and help: the command line, validation and the
// documentation read that one declaration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/params.h"
#include "ingest/layout.h"

namespace loadcast::generate {

struct GenerateOptions {
  GenerateOptions();  // the declared defaults
  // First and last second written, inclusive, UTC epoch seconds.
  int64_t start;
  int64_t end;
  // Fleet size; 0 picks it from `size` (default_servers).
  int servers;
  // Bytes to write, honoured within a few percent.
  uint64_t size;
  // Share of all lines that are dirty.
  double dirty_rate;
  // sessions17 or sessions16; auto is not a layout one can write.
  Layout layout;
  uint64_t seed;
  // Worker threads; 0 = one per hardware thread. The output is the same for
  // every value.
  int threads;
};

// The declaration of every option above (names as on the command line,
// without the dashes).
const ParamSet<GenerateOptions>& generate_params();

// Throws Failure(kUsage) naming the option when a value is out of bounds or
// --end lies before --start.
void validate(const GenerateOptions& options);

// A timestamp (docs/data-format.md) or a bare date `YYYY-MM-DD`, which means
// the start of that day, or its last second when `end_of_day` is set. Epoch
// seconds, fractions truncated.
std::optional<int64_t> parse_window_time(std::string_view text, bool end_of_day);

// The mean length of a generated line before it is measured (sizing the
// default fleet, and the generator's first calibration).
inline constexpr double kBytesPerLineGuess = 100;

// The fleet size used when `servers` is 0: about 50 sessions per
// server-hour, 8 to 2000 servers (past 2000 the servers get busier instead,
// which keeps the per-slice planning cheap).
int default_servers(const GenerateOptions& options);

}  // namespace loadcast::generate
