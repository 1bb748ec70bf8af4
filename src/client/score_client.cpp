#include "client/score_client.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "blob/storage.h"
#include "common/error.h"
#include "common/time.h"
#include "serve/records.h"

namespace loadcast::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /score...
};

SplitUrl split_url(const std::string& url, const std::string& origin_name) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0))
    fail_usage(origin_name + ": field 'url': expected http://host[:port]/score, got '" + url + "'");
  const size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  return {url.substr(0, path_start), url.substr(path_start)};
}

std::string string_field(const json& j, const char* field, const std::string& origin,
                         bool required) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) fail_usage(origin + ": missing field '" + field + "'");
    return "";
  }
  if (!it->is_string()) fail_usage(origin + ": field '" + field + "' must be a string");
  return it->get<std::string>();
}

}  // namespace

WebServiceConfig load_webservice_config(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_usage("cannot read " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    fail_usage(file.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) fail_usage(file.string() + ": expected a JSON object");
  const std::string origin = file.string();
  WebServiceConfig config;
  config.url = string_field(j, "url", origin, true);
  split_url(config.url, origin);
  config.authorization = string_field(j, "authorization", origin, false);
  if (config.authorization.empty()) {
    if (const char* key = std::getenv("LOADCAST_SERVICE_KEY")) config.authorization = key;
  }
  fs::path stats = string_field(j, "statsLocation", origin, true);
  // A folder is found next to this file; a blob URL is the output's.
  if (stats.is_relative() && !blob::is_blob_url(stats.string())) stats = file.parent_path() / stats;
  config.stats_location = stats;
  return config;
}

json forecast_records(const ServerHistory& history, int64_t start_seconds, int hours) {
  FeatureParams params;  // the trend origin is the service's; thresholds do not reach the wire
  json records = json::array();
  for (int h = 0; h < hours; ++h)
    records.push_back(serve::record_of(
        feature_row(history, start_seconds + h * kSecondsPerHour, params), *params.schema, false));
  return records;
}

std::vector<HourPrediction> post_score(const WebServiceConfig& config, const json& records,
                                       const RetryPolicy& policy,
                                       const std::function<void(const std::string&)>& on_retry) {
  const SplitUrl url = split_url(config.url, "url");
  httplib::Client http(url.origin);
  http.set_connection_timeout(policy.connect_timeout_s, 0);
  http.set_read_timeout(policy.read_timeout_s, 0);
  http.set_write_timeout(policy.read_timeout_s, 0);
  http.set_tcp_nodelay(true);
  httplib::Headers headers;
  if (!config.authorization.empty()) {
    const bool has_scheme = config.authorization.rfind("Bearer ", 0) == 0;
    headers.emplace("Authorization",
                    has_scheme ? config.authorization : "Bearer " + config.authorization);
  }
  const std::string body = records.dump();

  std::string last_problem;
  int backoff_ms = policy.first_backoff_ms;
  for (int attempt = 1; attempt <= policy.attempts; ++attempt) {
    if (attempt > 1) {
      if (on_retry) on_retry(last_problem + "; retrying in " + std::to_string(backoff_ms) + " ms");
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms *= 2;
    }
    const auto res = http.Post(url.path, headers, body, "application/json");
    if (!res) {
      last_problem = "cannot reach " + config.url + ": " + httplib::to_string(res.error());
      continue;
    }
    if (res->status >= 500) {
      last_problem = config.url + " answered " + std::to_string(res->status);
      continue;
    }
    if (res->status != 200) {
      std::string reason = res->body.substr(0, 300);
      try {
        const json e = json::parse(res->body);
        if (e.is_object() && e.contains("error") && e["error"].is_string())
          reason = e["error"].get<std::string>();
      } catch (const json::exception&) {
      }
      fail_internal(config.url + " answered " + std::to_string(res->status) + ": " + reason);
    }
    json answer;
    try {
      answer = json::parse(res->body);
    } catch (const json::parse_error& e) {
      fail_internal(config.url + " answered with malformed JSON: " + e.what());
    }
    std::vector<HourPrediction> out;
    for (size_t i = 0; i < records.size(); ++i) {
      const auto row = answer.find(std::to_string(i));
      if (row == answer.end() || !row->is_object() || !row->contains("prediction") ||
          !(*row)["prediction"].is_number())
        fail_internal(config.url + " answered without a prediction for record " +
                      std::to_string(i));
      const double p = (*row)["prediction"].get<double>();
      const std::string& hour_column = default_feature_schema().of(ColumnRole::kHour).name;
      const auto hour = parse_timestamp(records[i][hour_column].get<std::string>());
      out.push_back({hour ? seconds_of(*hour) : 0, static_cast<int>(std::lround(p))});
    }
    return out;
  }
  fail_internal(last_problem + " (gave up after " + std::to_string(policy.attempts) + " attempts)");
}

}  // namespace loadcast::client
