// The dashboard's HTML: escaping, query strings, numbers as people read
// them, and the page frame every page shares (its style inline, so that a
// page is one request and loads nothing from anywhere else).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loadcast::ui {

// `text` with & < > " ' as character references, for text and attribute values.
void append_escaped(std::string& out, std::string_view text);
std::string escaped(std::string_view text);
// Appends every part in order (no temporaries in between).
void append_all(std::string& out, std::initializer_list<std::string_view> parts);

// Every value of `name` in a query string (`a=1&b=x+y&a=2`), percent- and
// '+'-decoded, in order; a value holding commas counts as several
// (`ids=1,2` is `ids=1&ids=2`) when `split_commas`.
std::vector<std::string> query_values(std::string_view query, std::string_view name,
                                      bool split_commas = false);
// The first value of `name`, or nullopt.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

// A number with at most `digits` significant digits, without trailing zeros
// (0.9444, 12345, 1.5e+09).
std::string format_number(double value, int digits = 4);
// A byte count as people read it (812 B, 1.4 MB).
std::string format_bytes(double bytes);

// The whole page: title, the navigation with `section` marked, and `body`.
std::string page(std::string_view title, std::string_view section, std::string_view body);

}  // namespace loadcast::ui
