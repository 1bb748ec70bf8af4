// Number text for loadcast: the decimal parser of SPEC §1 (correctly rounded,
// NaN/inf/overflow are missing) and the shortest round-trip writer of §6.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loadcast {

// A plain decimal: optional sign, digits, optional fraction, optional
// exponent. NaN, infinities, text, empty input and overflow give nullopt;
// underflow gives 0.
std::optional<double> parse_decimal(std::string_view text);

// The shortest text that reads back to the same double. Whole numbers keep a
// ".0" so that pandas and DuckDB read the column as floating point.
void append_double(std::string& out, double value);
std::string format_double(double value);

}  // namespace loadcast
