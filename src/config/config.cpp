#include "config/config.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"

namespace loadcast {

namespace {

using nlohmann::json;

struct Preset {
  const char* name;
  const char* train_begin;
  const char* train_end;
  const char* test_split_start;
  double low;
  double high;
};

constexpr Preset kPresets[] = {
    {"ONE_MONTH", "2016-06-01 00:00:00", "2016-06-30 23:59:59", "2016-06-29 00:00:00", 100, 500},
    {"FULL", "2009-01-01 00:00:00", "2016-06-30 23:59:59", "2016-06-01 00:00:00", 700, 3500},
};

// Reads one field with a named error for a wrong type.
class FieldReader {
 public:
  FieldReader(const json& object, std::string origin, std::string prefix = "")
      : object_(object), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_[key].is_null(); }

  std::string string(const char* key, const std::string& fallback = "") {
    seen_.insert(key);
    if (!has(key)) return fallback;
    const json& v = object_[key];
    if (!v.is_string()) wrong(key, "a string", v);
    return v.get<std::string>();
  }

  double number(const char* key, double fallback) {
    seen_.insert(key);
    if (!has(key)) return fallback;
    const json& v = object_[key];
    if (!v.is_number()) wrong(key, "a number", v);
    return v.get<double>();
  }

  int64_t integer(const char* key, int64_t fallback, int64_t min, int64_t max) {
    seen_.insert(key);
    if (!has(key)) return fallback;
    const json& v = object_[key];
    const bool integral = v.is_number_integer() ||
                          (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (!integral) wrong(key, "a whole number", v);
    const double d = v.get<double>();
    if (d < static_cast<double>(min) || d > static_cast<double>(max))
      impossible(
          key, v.dump() + " (allowed: " + std::to_string(min) + " to " + std::to_string(max) + ")");
    return static_cast<int64_t>(d);
  }

  TimeNs timestamp(const char* key, const std::string& fallback) {
    const std::string text = string(key, fallback);
    if (text.empty())
      fail_usage(origin_ + ": field '" + name(key) + "' is required for this duration");
    const auto t = parse_timestamp(text);
    if (!t) impossible(key, "'" + text + "' (expected YYYY-MM-DD HH:MM:SS)");
    return *t;
  }

  const json& object(const char* key) {
    seen_.insert(key);
    const json& v = object_[key];
    if (!v.is_object()) wrong(key, "an object", v);
    return v;
  }

  std::vector<std::string> strings(const char* key, std::vector<std::string> fallback) {
    seen_.insert(key);
    if (!has(key)) return fallback;
    const json& v = object_[key];
    if (!v.is_array()) wrong(key, "an array of strings", v);
    std::vector<std::string> out;
    for (const json& item : v) {
      if (!item.is_string()) wrong(key, "an array of strings", v);
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  [[noreturn]] void impossible(const char* key, const std::string& what) const {
    fail_usage(origin_ + ": field '" + name(key) + "' has an impossible value " + what);
  }

  std::vector<std::string> unknown_fields() const {
    std::vector<std::string> out;
    for (auto it = object_.begin(); it != object_.end(); ++it)
      if (!seen_.count(it.key())) out.push_back(prefix_ + it.key());
    return out;
  }

 private:
  std::string name(const char* key) const { return prefix_ + key; }

  [[noreturn]] void wrong(const char* key, const char* expected, const json& v) const {
    fail_usage(origin_ + ": field '" + name(key) + "' must be " + expected + ", not " +
               std::string(v.type_name()) + " " + v.dump());
  }

  const json& object_;
  std::string origin_;
  std::string prefix_;
  std::set<std::string> seen_;
};

forest::ForestParams read_forest(const json& object, const std::string& origin,
                                 std::vector<std::string>& warnings) {
  FieldReader f(object, origin, "forest.");
  forest::ForestParams p;
  p.num_trees = static_cast<int>(f.integer("numTrees", p.num_trees, 1, 10000));
  p.max_depth = static_cast<int>(f.integer("maxDepth", p.max_depth, 1, 30));
  p.seed = static_cast<uint64_t>(f.integer("seed", static_cast<int64_t>(p.seed), 0, INT64_MAX));
  p.max_bins = static_cast<int>(f.integer("maxBins", p.max_bins, 2, 256));
  p.feature_subset_strategy = f.string("featureSubsetStrategy", p.feature_subset_strategy);
  static const std::set<std::string> kStrategies = {"auto", "all", "sqrt", "log2", "onethird"};
  if (!kStrategies.count(p.feature_subset_strategy))
    f.impossible("featureSubsetStrategy",
                 "'" + p.feature_subset_strategy + "' (allowed: auto, all, sqrt, log2, onethird)");
  if (p.feature_subset_strategy == "auto") p.feature_subset_strategy = "sqrt";
  p.subsampling_rate = f.number("subsamplingRate", p.subsampling_rate);
  if (!(p.subsampling_rate > 0 && p.subsampling_rate <= 1))
    f.impossible("subsamplingRate",
                 std::to_string(p.subsampling_rate) + " (allowed: above 0, at most 1)");
  for (auto& u : f.unknown_fields()) warnings.push_back(u);
  return p;
}

}  // namespace

Config parse_config(const std::string& json_text, const std::filesystem::path& origin_path) {
  const std::string origin = origin_path.string();
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    fail_usage(origin + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!root.is_object()) fail_usage(origin + ": the configuration must be a JSON object");

  Config c;
  c.config_path = origin_path;
  FieldReader f(root, origin);
  c.storage_account = f.string("storageAccount");
  c.storage_key = f.string("storageKey");
  if (const char* key = std::getenv("LOADCAST_STORAGE_KEY"); key && *key) c.storage_key = key;
  c.storage_container = f.string("storageContainer");
  c.data_file = f.string("dataFile");
  if (c.data_file.empty())
    fail_usage(origin + ": field 'dataFile' is required (a path, glob, or '-' for stdin)");
  c.duration = f.string("duration", "ONE_MONTH");

  const Preset* preset = nullptr;
  for (const auto& p : kPresets)
    if (c.duration == p.name) preset = &p;
  if (!preset && c.duration != "CUSTOM")
    f.impossible("duration", "'" + c.duration + "' (allowed: ONE_MONTH, FULL, CUSTOM)");

  // Explicit window fields override a preset; CUSTOM requires them.
  c.train_begin = f.timestamp("trainBegin", preset ? preset->train_begin : "");
  c.train_end = f.timestamp("trainEnd", preset ? preset->train_end : "");
  c.test_split_start = f.timestamp("testSplitStart", preset ? preset->test_split_start : "");
  c.low_threshold = f.number("lowThreshold", preset ? preset->low : 100);
  c.high_threshold = f.number("highThreshold", preset ? preset->high : 500);
  // The five-minute bucket keys cover these years (aggregate/bucket_table.h).
  const TimeNs earliest = *parse_timestamp("1900-01-01 00:00:00");
  const TimeNs latest = *parse_timestamp("2199-12-31 23:59:59");
  if (c.train_begin < earliest || c.train_begin > latest)
    f.impossible("trainBegin", "(years 1900 to 2199 only)");
  if (c.train_end < earliest || c.train_end > latest)
    f.impossible("trainEnd", "(years 1900 to 2199 only)");
  if (c.train_end < c.train_begin) f.impossible("trainEnd", "(it lies before trainBegin)");
  if (c.test_split_start <= c.train_begin || c.test_split_start > c.train_end)
    f.impossible("testSplitStart", "(it must lie after trainBegin and not after trainEnd)");
  if (!std::isfinite(c.low_threshold)) f.impossible("lowThreshold", "(not finite)");
  if (!std::isfinite(c.high_threshold) || c.high_threshold < c.low_threshold)
    f.impossible("highThreshold", "(it must be finite and not below lowThreshold)");

  const std::string layout = f.string("layout", "auto");
  if (layout == "auto")
    c.layout = Layout::kAuto;
  else if (layout == "sessions17")
    c.layout = Layout::kSessions17;
  else if (layout == "sessions16")
    c.layout = Layout::kSessions16;
  else
    f.impossible("layout", "'" + layout + "' (allowed: auto, sessions17, sessions16)");

  c.filter_ips = f.strings("filterIPs", c.filter_ips);
  if (f.has("forest")) c.forest = read_forest(f.object("forest"), origin, c.warnings);

  const std::string output = f.string("output");
  if (!output.empty()) {
    c.output = output;
  } else {
    if (c.storage_container.empty())
      fail_usage(origin +
                 ": set 'output' or 'storageContainer' (the default output is "
                 "outputs/<storageContainer>)");
    c.output = std::filesystem::path("outputs") / c.storage_container;
  }

  // Local inputs are found next to the configuration file.
  const bool is_url = c.data_file.find("://") != std::string::npos;
  if (!is_url && c.data_file != "-" && std::filesystem::path(c.data_file).is_relative()) {
    c.data_file = (origin_path.parent_path() / c.data_file).lexically_normal().string();
    if (c.data_file.empty()) c.data_file = ".";
  }
  for (auto& u : f.unknown_fields()) c.warnings.push_back(u);
  return c;
}

Config load_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_usage("cannot read configuration file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace loadcast
