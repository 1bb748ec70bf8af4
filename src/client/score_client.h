// The scoring client of docs/http-api.md: reads the seed's webservice.json, builds a
// server's hourly feature records from the ETL's stores with the feature
// engine, posts them to the service's /score endpoint with timeouts and
// bounded retries, and reads the predictions back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "features/engine.h"

namespace loadcast::client {

struct WebServiceConfig {
  std::string url;                       // http(s)://host[:port]/score
  std::string authorization;             // "Bearer <key>", a bare key, or empty
  std::filesystem::path stats_location;  // ETL output folder (hourly/, daily/) or its blob URL
};

// Reads `url`, `authorization` and `statsLocation` (relative to the file's
// folder). A missing authorization falls back to LOADCAST_SERVICE_KEY.
// Throws Failure(kUsage) naming the file and field.
WebServiceConfig load_webservice_config(const std::filesystem::path& file);

struct RetryPolicy {
  int attempts = 4;            // the first try and up to three retries
  int first_backoff_ms = 500;  // doubled after each failed attempt
  int connect_timeout_s = 5;
  int read_timeout_s = 30;
};

// The records of `hours` consecutive hours of `history` from `start_seconds`,
// built with feature_row(). linearTrend is left out: its origin is the
// model's trainBegin, which the service knows and the client does not, so
// the service derives it (serve/records.h).
nlohmann::json forecast_records(const ServerHistory& history, int64_t start_seconds, int hours);

struct HourPrediction {
  int64_t hour = 0;  // epoch seconds
  int label = 0;     // 1 low, 2 medium, 3 high
};

// Posts `records` to config.url and returns one prediction per record, in
// order. Connection errors, timeouts and 5xx are retried with exponential
// backoff; `on_retry` hears about each. Throws Failure(kInternal) when the
// service stays unreachable, answers 4xx, or answers in another shape.
std::vector<HourPrediction> post_score(
    const WebServiceConfig& config, const nlohmann::json& records, const RetryPolicy& policy,
    const std::function<void(const std::string&)>& on_retry = {});

}  // namespace loadcast::client
