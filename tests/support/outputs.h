// What an etl output holds, for tests that compare two of them: its table
// files and its line accounting.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "support/csv.h"

namespace loadcast::testing {

// The files of features/, hourly/ and daily/ under `out`, by their path
// below it (e.g. "features/2016/07/part-00000.csv"), with their bytes.
inline std::map<std::string, std::string> output_tables(const std::filesystem::path& out) {
  std::map<std::string, std::string> files;
  for (const char* table : {"features", "hourly", "daily"})
    for (const auto& [path, text] : snapshot(out / table)) files[std::string(table) + path] = text;
  return files;
}

// The line accounting of `out`/etl_summary.json.
inline nlohmann::json output_accounting(const std::filesystem::path& out) {
  nlohmann::json summary = nlohmann::json::parse(read_text(out / "etl_summary.json"));
  nlohmann::json lines;
  for (const char* key : {"lines", "accepted", "outside_window", "filtered_ip", "blank", "rejected",
                          "rejected_by_reason"})
    lines[key] = summary[key];
  return lines;
}

}  // namespace loadcast::testing
