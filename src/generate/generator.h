// `loadcast generate` as a library call: sizes the fleet and its session rates
// so the output meets the requested byte count, generates time slices in
// parallel and hands them to a sink in time order. The bytes depend on the
// options and seed only, never on the thread count.
#pragma once

#include <cstdint>
#include <functional>

#include "generate/options.h"
#include "generate/sink.h"

namespace loadcast::generate {

struct GenerateStats {
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t dirty_lines = 0;
  int servers = 0;
  double seconds = 0;  // wall time, planning included
};

// Called on the writing thread after each chunk, with the totals so far.
using ProgressFn = std::function<void(const GenerateStats&)>;

// Throws Failure(kUsage) for invalid options, and whatever the sink throws.
GenerateStats generate(const GenerateOptions& options, Sink& sink, const ProgressFn& progress = {});

}  // namespace loadcast::generate
