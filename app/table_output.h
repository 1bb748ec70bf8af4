// Plain tables for the listing subcommands (runs, models): aligned columns on
// a terminal, RFC 4180 CSV for scripts. JSON output is built by each command
// from its records, with real types.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace loadcast::app {

struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  void print_aligned(std::FILE* out) const {
    std::vector<size_t> width(header.size(), 0);
    for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& row : rows)
      for (size_t c = 0; c < row.size() && c < width.size(); ++c)
        width[c] = std::max(width[c], row[c].size());
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text;
      for (size_t c = 0; c < cells.size(); ++c) {
        text += cells[c];
        if (c + 1 < cells.size()) text.append(width[c] - cells[c].size() + 2, ' ');
      }
      std::fprintf(out, "%s\n", text.c_str());
    };
    line(header);
    for (const auto& row : rows) line(row);
  }

  void print_csv(std::FILE* out) const {
    auto cell = [](const std::string& v) {
      if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
      std::string quoted = "\"";
      for (char ch : v) {
        if (ch == '"') quoted += '"';
        quoted += ch;
      }
      return quoted + "\"";
    };
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text;
      for (size_t c = 0; c < cells.size(); ++c) text += (c ? "," : "") + cell(cells[c]);
      std::fprintf(out, "%s\n", text.c_str());
    };
    line(header);
    for (const auto& row : rows) line(row);
  }
};

// Numbers as people read them: integers without a fraction, else 6 significant digits.
inline std::string format_number(double v) {
  char text[64];
  if (v == static_cast<double>(static_cast<long long>(v)) && v > -1e15 && v < 1e15) {
    std::snprintf(text, sizeof(text), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(text, sizeof(text), "%.6g", v);
  }
  return text;
}

}  // namespace loadcast::app
