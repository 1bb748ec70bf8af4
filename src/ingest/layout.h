// The two column layouts of the raw session CSV (docs/data-format.md):
// which field holds SessionStart, ServerIP and the eight measures.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "aggregate/measures.h"

namespace loadcast {

enum class Layout { kAuto, kSessions17, kSessions16 };

// The name of every declaration's layout field or option.
inline constexpr const char* kLayoutParam = "layout";

// "auto", "sessions17", "sessions16".
std::string_view layout_name(Layout layout);
// The layout named `text`; nullopt for another name.
std::optional<Layout> parse_layout(std::string_view text);

// Positions of the used fields for one column layout (0-based).
struct ColumnLayout {
  int field_count;
  int session_start;
  int server_ip;
  std::array<int, kNumMeasures> measure;  // kMeasureNames order
};
inline constexpr ColumnLayout kSessions17Columns{17, 1, 15, {14, 4, 8, 9, 10, 11, 12, 13}};
inline constexpr ColumnLayout kSessions16Columns{16, 0, 15, {13, 3, 7, 8, 9, 10, 11, 12}};
// REQUIRES: layout is kSessions17 or kSessions16.
const ColumnLayout& column_layout(Layout layout);

}  // namespace loadcast
