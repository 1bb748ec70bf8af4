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
  // measure order: TotalLoad, MbytesTransferred, SubService_1..5_Load, SecureBytes_Load
  static const ColumnLayout k17{17, 1, 15, {14, 4, 8, 9, 10, 11, 12, 13}};
  static const ColumnLayout k16{16, 0, 15, {13, 3, 7, 8, 9, 10, 11, 12}};
  return layout == Layout::kSessions16 ? k16 : k17;
}

}  // namespace loadcast
