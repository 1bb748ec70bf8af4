#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace loadcast {

namespace {

using nlohmann::json;

// A duration preset: the window (when it sets one) and the thresholds.
struct Preset {
  const char* name;
  bool sets_window;
  Window window;
};

Window window_of(const char* begin, const char* end, const char* split, double low, double high) {
  Window w;
  w.train_begin = *parse_timestamp(begin);
  w.train_end = *parse_timestamp(end);
  w.test_split_start = *parse_timestamp(split);
  w.low_threshold = low;
  w.high_threshold = high;
  return w;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"ONE_MONTH", true,
       window_of("2016-06-01 00:00:00", "2016-06-30 23:59:59", "2016-06-29 00:00:00", 100, 500)},
      {"FULL", true,
       window_of("2009-01-01 00:00:00", "2016-06-30 23:59:59", "2016-06-01 00:00:00", 700, 3500)},
      {"CUSTOM", false,
       window_of("1970-01-01 00:00:00", "1970-01-01 00:00:00", "1970-01-01 00:00:00", 100, 500)},
  };
  return list;
}

// Sets one training field by its dotted name.
void set_training_field(Config& c, const std::string& dotted, const json& value,
                        const ParamSource& source) {
  const auto dot = dotted.find('.');
  const std::string head = dotted.substr(0, dot);
  const bool nested = dot != std::string::npos;
  const auto not_training = [&] {
    throw Failure(source.code, source.origin + ": '" + dotted +
                                   "' is not a training field (algorithm, forest.NAME or "
                                   "boosting.NAME)");
  };
  if (nested ? head != kForestField && head != kBoostingField : head != forest::kAlgorithmField)
    not_training();
  const Param<Config>& field = *config_params().find(head);
  std::vector<std::string> unknown;
  if (nested)
    field.read_nested(json{{dotted.substr(dot + 1), value}}, c, source, unknown);
  else
    config_params().read(json{{head, value}}, c, source, unknown);
  if (!unknown.empty()) not_training();
}

// The type of a dotted training field's declaration; empty for a name
// that is not one.
std::string training_field_type(const std::string& dotted) {
  const auto dot = dotted.find('.');
  if (dot == std::string::npos) {
    const auto* p = dotted == forest::kAlgorithmField ? config_params().find(dotted) : nullptr;
    return p ? p->type_name : "";
  }
  const std::string head = dotted.substr(0, dot);
  const std::string tail = dotted.substr(dot + 1);
  if (head == kForestField) {
    const auto* p = forest::forest_params().find(tail);
    return p ? p->type_name : "";
  }
  const auto* p = head == kBoostingField ? forest::boost_params().find(tail) : nullptr;
  return p ? p->type_name : "";
}

// Every value of the tuning space read by its field's declaration; a
// range only for numbers and only in a random search.
void check_tuning_space(Config& c, const std::string& origin) {
  const ParamSource source{origin + " (tuning.space)", ExitCode::kUsage};
  for (SearchAxis& axis : c.tuning.space) {
    Config scratch = c;
    if (!axis.is_range()) {
      for (const json& v : axis.values) set_training_field(scratch, axis.name, v, source);
      continue;
    }
    const std::string type = training_field_type(axis.name);
    if (type.empty()) set_training_field(scratch, axis.name, axis.min, source);  // names it
    axis.integral = type == "integer";
    if (type != "integer" && type != "number")
      throw Failure(source.code, source.origin + ": '" + axis.name + "' is a " + type +
                                     " field: give it a list of values, not a range");
    if (c.tuning.search != SearchKind::kRandom)
      throw Failure(source.code, source.origin + ": '" + axis.name +
                                     "' has a range: a grid search needs a list of values "
                                     "(or set tuning.search to random)");
    set_training_field(scratch, axis.name, axis.min, source);
    set_training_field(scratch, axis.name, axis.max, source);
  }
}

// The years the five-minute bucket keys cover (aggregate/bucket_table.h).
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2199;

}  // namespace

const ParamSet<Window>& window_params() {
  static const ParamSet<Window> set = [] {
    ParamSet<Window> s;
    s.timestamp("trainBegin", &Window::train_begin, "",
                "first instant of the data kept (inclusive, UTC); also the origin of linearTrend")
        .default_by_rule("from duration");
    s.timestamp("trainEnd", &Window::train_end, "",
                "last instant of the data kept (inclusive, to the sub-second)")
        .default_by_rule("from duration");
    s.timestamp("testSplitStart", &Window::test_split_start, "",
                "feature rows at or after it are the test set, the rows before it train; it "
                "lies after trainBegin and not after trainEnd")
        .default_by_rule("from duration");
    s.real("lowThreshold", &Window::low_threshold, 0, RealRange{},
           "an hour whose peak load is at most this is labelled 1 (low)")
        .default_by_rule("from duration");
    s.real("highThreshold", &Window::high_threshold, 0, RealRange{},
           "above lowThreshold and at most this is 2 (medium), above it 3 (high)")
        .default_by_rule("from duration");
    return s;
  }();
  return set;
}

const ParamSet<TrainingSpec>& training_params() {
  static const ParamSet<TrainingSpec> set = [] {
    ParamSet<TrainingSpec> s;
    s.text("dataFile", &TrainingSpec::data_file, "",
           "the raw session CSV: a path, a glob with *, ? and [...] classes, or - for standard "
           "input; a relative path is found next to the configuration file; a wasb:// or "
           "https:// blob URL with a glob reads blobs (docs/storage.md) (required)");
    std::vector<std::pair<std::string, std::string>> durations;
    for (const Preset& p : presets()) durations.emplace_back(p.name, p.name);
    s.choice<std::string>("duration", &TrainingSpec::duration, "ONE_MONTH", durations,
                          "a preset of the window and thresholds (see the table of presets); "
                          "CUSTOM needs the window fields");
    s.flatten_base(window_params());
    return s;
  }();
  return set;
}

const ParamSet<Config>& config_params() {
  static const ParamSet<Config> set = [] {
    ParamSet<Config> s;
    s.text("storageAccount", &Config::storage_account, "", "the seed's storage account name");
    s.text("storageKey", &Config::storage_key, "",
           "the seed's storage key; LOADCAST_STORAGE_KEY overrides it; never printed or recorded",
           true);
    s.text("storageContainer", &Config::storage_container, "",
           "the seed's container; names the default output folder");
    s.text("sasToken", &Config::sas_token, "",
           "a shared access signature for storageAccount's blobs, instead of the key; "
           "LOADCAST_STORAGE_SAS overrides it; never printed or recorded",
           true);
    s.text("blobEndpoint", &Config::blob_endpoint, "",
           "the blob service's address, for an emulator or another cloud (path-style: "
           "http://127.0.0.1:10000/devstoreaccount1)")
        .default_by_rule("https://<account>.blob.core.windows.net");
    s.integer("blobRetries", &Config::blob_retries, 5, 0, 30,
              "how often a blob request that timed out, lost its connection or got a 5xx "
              "answer is tried again, with a backoff doubling from 0.1 s to 4 s");
    s.integer("blobReadsInFlight", &Config::blob_reads_in_flight, 4, 1, 64,
              "ranged reads of a blob input at once, per reading thread");
    s.flatten_base(training_params());
    s.path("output", &Config::output, "",
           "where features, stores and the model go: a folder (relative to the current one) or "
           "a blob URL, a container and prefix (docs/storage.md)")
        .default_by_rule("outputs/<storageContainer>");
    s.choice<TableFormat>(kFormatField, &Config::format, TableFormat::kCsv,
                          {{"csv", TableFormat::kCsv}, {"parquet", TableFormat::kParquet}},
                          "how etl stores the feature table and the stores: CSV text, or Parquet "
                          "(typed columns, zstd); train, serve and score read either");
    s.choice<Layout>(kLayoutParam, &Config::layout, Layout::kAuto,
                     {{"auto", Layout::kAuto},
                      {"sessions17", Layout::kSessions17},
                      {"sessions16", Layout::kSessions16}},
                     "the raw column layout; auto takes the majority field count of the first "
                     "100 non-empty lines of the first input");
    s.texts(kFilterIpsField, &Config::filter_ips, {"115.220.193.16", "210.181.165.92"},
            "the servers kept when etl runs with FILTER_IP");
    s.size(kMemoryLimitField, &Config::memory_limit, 0, uint64_t{1} << 20, uint64_t{1} << 50,
           "what etl may hold in memory per process; past it, the five-minute aggregate "
           "spills to disk (the output is the same)")
        .default_by_rule(kAutoMemoryLimit);
    s.choice<forest::Algorithm>(
        forest::kAlgorithmField, &Config::algorithm, forest::Algorithm::kRandomForest,
        {{forest::kRandomForestName, forest::Algorithm::kRandomForest},
         {forest::kGradientBoostedTreesName, forest::Algorithm::kGradientBoostedTrees}},
        "what train grows: a random forest ('forest') or gradient-boosted trees ('boosting')");
    s.object(kForestField, &Config::forest, forest::forest_params(),
             "the random forest's parameters");
    s.object(kBoostingField, &Config::boosting, forest::boost_params(),
             "the gradient-boosted trees' parameters");
    s.object(kTuningField, &Config::tuning, tuning_params(),
             "how 'loadcast tune' cross-validates by time and what it searches");
    return s;
  }();
  return set;
}

TrainingSpec::TrainingSpec() { training_params().set_defaults(*this); }

Config::Config() { config_params().set_defaults(*this); }

Config parse_config(const std::string& json_text, const std::filesystem::path& origin_path,
                    const std::filesystem::path& output) {
  const ParamSource source{origin_path.string(), ExitCode::kUsage};
  const std::string& origin = source.origin;
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {  // also a number past the range of a double
    fail_usage(origin + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!root.is_object()) fail_usage(origin + ": the configuration must be a JSON object");

  const ParamSet<Config>& params = config_params();
  Config c;
  c.config_path = origin_path;
  const std::set<std::string> given = params.read(root, c, source, c.warnings);
  const blob::StorageSettings environment = blob::environment_storage();
  if (!environment.key.empty()) c.storage_key = environment.key;
  if (!environment.sas.empty()) c.sas_token = environment.sas;
  if (c.data_file.empty())
    fail_usage(origin + ": field 'dataFile' is required (a path, glob, or '-' for stdin)");

  // Window fields left out come from the preset; CUSTOM sets no window.
  const Preset* preset = nullptr;
  for (const Preset& p : presets())
    if (c.duration == p.name) preset = &p;
  Config from_preset = c;
  static_cast<Window&>(from_preset) = preset->window;
  for (const Param<Window>& w : window_params().params()) {
    if (given.count(w.name)) continue;
    if (w.type_name == "timestamp" && !preset->sets_window)
      fail_usage(origin + ": field '" + w.name + "' is required for this duration");
    const Param<Config>& field = *params.find(w.name);
    field.from_json(field.to_json(from_preset), c);
  }

  const auto year_of = [](TimeNs t) {
    return civil_from_days(floor_div(seconds_of(t), kSecondsPerDay)).year;
  };
  const std::string years =
      "years " + std::to_string(kFirstYear) + " to " + std::to_string(kLastYear) + " only";
  for (const auto& [name, t] :
       {std::pair{"trainBegin", c.train_begin}, std::pair{"trainEnd", c.train_end}})
    if (year_of(t) < kFirstYear || year_of(t) > kLastYear) params.fail_value(source, name, years);
  if (c.train_end < c.train_begin)
    params.fail_value(source, "trainEnd", "it lies before trainBegin");
  if (c.test_split_start <= c.train_begin || c.test_split_start > c.train_end)
    params.fail_value(source, "testSplitStart",
                      "it must lie after trainBegin and not after trainEnd");
  if (c.high_threshold < c.low_threshold)
    params.fail_value(source, "highThreshold", "it must not lie below lowThreshold");
  check_tuning_space(c, origin);

  if (!output.empty()) c.output = output;
  if (blob::is_blob_url(c.output.string())) {
    const blob::BlobUrl url = blob::parse_blob_url(c.output.string(), origin + ": output");
    c.output_sas = url.sas;
    c.output_url = url.text();
    c.output.clear();
  } else if (c.output.empty()) {
    if (c.storage_container.empty())
      fail_usage(origin +
                 ": set 'output' or 'storageContainer' (the default output is "
                 "outputs/<storageContainer>)");
    c.output = std::filesystem::path("outputs") / c.storage_container;
  }

  // A SAS token written as the blob URL's query is a secret like sasToken:
  // kept apart, so that the URL can be shown and recorded.
  const bool is_url = blob::is_blob_url(c.data_file);
  if (is_url) {
    const blob::BlobUrl url = blob::parse_blob_url(c.data_file, origin + ": field 'dataFile'");
    if (!url.sas.empty()) {
      if (c.sas_token.empty()) c.sas_token = url.sas;
      c.data_file.erase(c.data_file.find('?'));
    }
  }
  // Local inputs are found next to the configuration file.
  if (!is_url && c.data_file != "-" && std::filesystem::path(c.data_file).is_relative()) {
    c.data_file = (origin_path.parent_path() / c.data_file).lexically_normal().string();
    if (c.data_file.empty()) c.data_file.push_back('.');
  }
  return c;
}

Config with_training_values(const Config& config, const json& values, const ParamSource& source) {
  Config c = config;
  for (auto it = values.begin(); it != values.end(); ++it)
    set_training_field(c, it.key(), *it, source);
  return c;
}

blob::StorageSettings storage_settings(const Config& config) {
  blob::StorageSettings s;
  s.account = config.storage_account;
  s.key = config.storage_key;
  s.sas = config.sas_token;
  s.endpoint = config.blob_endpoint;
  s.retries = config.blob_retries;
  s.reads_in_flight = config.blob_reads_in_flight;
  return s;
}

Config load_config(const std::filesystem::path& path, const std::filesystem::path& output) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_usage("cannot read configuration file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, output);
}

}  // namespace loadcast
