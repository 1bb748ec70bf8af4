// The one 64-bit mixer behind every counter-based random choice (generator,
// bootstrap weights, samples): pure functions of their inputs, so results do
// not depend on order, threads or ranks.
#pragma once

#include <cstdint>

namespace loadcast {

// splitmix64's finaliser: a bijective 64-bit mix.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace loadcast
