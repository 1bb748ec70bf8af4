// The run configuration: the seed's storageconfig.json, its duration presets
// and the optional fields of docs/configuration.md, validated once. Every
// field is declared once (config.cpp, forest/params.cpp) with its default,
// bounds and help; reading, the run history, the bundle's info.json and the
// documentation take them from there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "blob/storage.h"
#include "common/params.h"
#include "common/time.h"
#include "config/tuning.h"
#include "forest/params.h"
#include "ingest/layout.h"
#include "store/tables.h"

namespace loadcast {

// The window of the data and the label thresholds: what the ETL keeps and
// labels, and what a model was trained on.
struct Window {
  TimeNs train_begin = 0;  // inclusive
  TimeNs train_end = 0;    // inclusive, to the sub-second
  TimeNs test_split_start = 0;
  double low_threshold = 0;
  double high_threshold = 0;
};

// Where the data came from and its window: what a model bundle records.
struct TrainingSpec : Window {
  TrainingSpec();         // the declared defaults
  std::string data_file;  // glob, `-` for stdin, or a blob URL
  std::string duration;   // ONE_MONTH, FULL, CUSTOM
};

struct Config : TrainingSpec {
  Config();                           // the declared defaults
  std::filesystem::path config_path;  // the file this came from
  std::string storage_account;
  std::string storage_key;  // secret: never printed or logged
  std::string storage_container;
  std::string sas_token;  // secret, as storage_key
  std::string blob_endpoint;
  int blob_retries = 5;
  int blob_reads_in_flight = 4;
  std::filesystem::path output;
  // Set when `output` is a blob URL (docs/storage.md): the URL without its
  // SAS token. `output` is then empty until a command puts a local working
  // copy there.
  std::string output_url;
  std::string output_sas;                  // secret: a SAS token given as the output URL's query
  TableFormat format = TableFormat::kCsv;  // of the tables etl writes
  Layout layout;
  std::vector<std::string> filter_ips;
  uint64_t memory_limit = 0;  // etl's, per process; 0: kAutoMemoryLimit's rule
  forest::Algorithm algorithm = forest::Algorithm::kRandomForest;
  forest::ForestParams forest;
  forest::BoostParams boosting;
  TuningSpec tuning;
  std::vector<std::string> warnings;  // unknown fields, ignored
};

// The declarations: the window fields, the training spec (the window with
// dataFile and duration), and the whole configuration.
const ParamSet<Window>& window_params();
const ParamSet<TrainingSpec>& training_params();
const ParamSet<Config>& config_params();

// Names of fields that other outputs carry too (the ETL summary).
inline constexpr const char* kFilterIpsField = "filterIPs";
inline constexpr const char* kForestField = "forest";
inline constexpr const char* kBoostingField = "boosting";
inline constexpr const char* kTuningField = "tuning";
inline constexpr const char* kMemoryLimitField = "memoryLimit";
inline constexpr const char* kFormatField = kFormatKey;
// What a memoryLimit left out means (etl resolves it).
inline constexpr const char* kAutoMemoryLimit =
    "half of this machine's memory, shared by the MPI ranks on it";

// `config` with the training fields of `values` ({"forest.maxDepth": 6,
// algorithm: ...}, the names of a tuning space) set, each read and
// checked by its own declaration. Throws Failure(source.code) naming the
// field for a name that is not a training field or an impossible value.
Config with_training_values(const Config& config, const nlohmann::json& values,
                            const ParamSource& source);

// What the configuration says about blob storage.
blob::StorageSettings storage_settings(const Config& config);

// Reads and validates a configuration file. Throws Failure(kUsage) naming the
// file and field on a missing file, bad JSON, a wrong type or an impossible
// value. Relative `dataFile` paths are resolved against the configuration's
// folder; a relative `output` against the current directory. A non-empty
// `output` (the command line's --output) takes the place of the file's.
Config load_config(const std::filesystem::path& path, const std::filesystem::path& output = {});
Config parse_config(const std::string& json_text, const std::filesystem::path& origin,
                    const std::filesystem::path& output = {});

}  // namespace loadcast
