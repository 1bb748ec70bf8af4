#include "ingest/layout.h"

namespace loadcast {

namespace {

constexpr std::array<std::pair<std::string_view, Layout>, 3> kLayoutNames = {
    {{"auto", Layout::kAuto},
     {"sessions17", Layout::kSessions17},
     {"sessions16", Layout::kSessions16}}};

}  // namespace

std::string_view layout_name(Layout layout) {
  for (const auto& [name, value] : kLayoutNames)
    if (value == layout) return name;
  return "auto";
}

std::optional<Layout> parse_layout(std::string_view text) {
  for (const auto& [name, value] : kLayoutNames)
    if (name == text) return value;
  return std::nullopt;
}

const ColumnLayout& column_layout(Layout layout) {
  return layout == Layout::kSessions16 ? kSessions16Columns : kSessions17Columns;
}

}  // namespace loadcast
