// Byte counts as people write them (5000, 64K, 100M, 1.5G, 2T), for
// options and configuration fields that take a size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loadcast {

// A byte count with an optional binary suffix: 5000, 64K, 100M, 1.5G, 2T; a
// trailing B or iB is allowed (10MB, 10MiB). nullopt for anything else.
std::optional<uint64_t> parse_size(std::string_view text);
// The shortest text parse_size reads back to the same count (100M, 1G, 1234).
std::string format_size(uint64_t bytes);
// A size for people, to three digits: "980 KiB", "1.5 GiB", "12.0 GiB".
std::string describe_size(uint64_t bytes);

}  // namespace loadcast
