// The run configuration: the seed's storageconfig.json, its duration presets
// and the optional fields of SPEC §2, validated once. Each field's default
// and bounds are declared here and nowhere else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/time.h"
#include "forest/params.h"
#include "ingest/layout.h"

namespace loadcast {

struct Config {
  std::filesystem::path config_path;  // the file this came from
  std::string storage_account;
  std::string storage_key;  // secret: never printed or logged
  std::string storage_container;
  std::string data_file;  // glob, `-` for stdin, or a blob URL
  std::string duration;   // ONE_MONTH, FULL, CUSTOM
  std::filesystem::path output;
  Layout layout = Layout::kAuto;
  TimeNs train_begin = 0;
  TimeNs train_end = 0;
  TimeNs test_split_start = 0;
  double low_threshold = 100;
  double high_threshold = 500;
  std::vector<std::string> filter_ips = {"115.220.193.16", "210.181.165.92"};
  forest::ForestParams forest;
  std::vector<std::string> warnings;  // unknown fields, ignored
};

// Reads and validates a configuration file. Throws Failure(kUsage) naming the
// file and field on a missing file, bad JSON, a wrong type or an impossible
// value. Relative `dataFile` paths are resolved against the configuration's
// folder; a relative `output` against the current directory.
Config load_config(const std::filesystem::path& path);
Config parse_config(const std::string& json_text, const std::filesystem::path& origin);

}  // namespace loadcast
