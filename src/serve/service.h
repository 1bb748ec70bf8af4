// The scoring service of docs/http-api.md without its transport: routing, auth,
// content checks, the four scoring contracts (/score, /invocations,
// /v1/predict, /v1/forecast), health, metrics and model info. It owns the
// served model (swapped atomically on reload) and the hourly/daily stores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "features/engine.h"
#include "model/model.h"
#include "serve/auth.h"
#include "serve/handler.h"
#include "serve/metrics.h"

namespace loadcast::serve {

// A model bundle as served: the model and a version that names its content.
struct LoadedModel {
  Model model;
  std::filesystem::path path;
  std::string version;  // 16 hex digits of a hash of info.json, encoder.json and forest.json
};

// Throws Failure(kData) as Model::load does.
std::shared_ptr<const LoadedModel> load_model_bundle(const std::filesystem::path& dir);

struct ServiceOptions {
  bool require_auth = true;
  ServiceKeys keys;
  size_t max_body_bytes = 16u << 20;  // 413 above
  size_t max_records = 100000;        // 413 above, per request
  int max_forecast_hours = 24 * 14;   // /v1/forecast `hours` must be in 1..this
};

class ScoringService : public HttpHandler {
 public:
  ScoringService(ServiceOptions options, std::shared_ptr<const LoadedModel> model,
                 std::vector<ServerHistory> stores);
  ScoringService(const ScoringService&) = delete;
  ScoringService& operator=(const ScoringService&) = delete;

  // Answers one request; never throws. Bad input is a 4xx `{"error": ...}`.
  HttpResponse handle(const HttpRequest& request) override;
  size_t max_body_bytes() const override { return options_.max_body_bytes; }
  void record_request(std::string_view path, int status, double seconds) override {
    metrics_.record_request(path, status, seconds);
  }

  // Loads the bundle again from its path and swaps it in; requests in flight
  // finish on the model they started with. A failed load keeps the current
  // model and returns the reason; "" on success.
  std::string reload();

  std::shared_ptr<const LoadedModel> model() const;
  bool has_stores() const { return !stores_.empty(); }
  const ServiceOptions& options() const { return options_; }
  ServiceMetrics& metrics() { return metrics_; }

 private:
  HttpResponse score(const HttpRequest& request);
  HttpResponse invocations(const HttpRequest& request);
  HttpResponse predict(const HttpRequest& request);
  HttpResponse forecast(const HttpRequest& request);
  HttpResponse model_info();
  HttpResponse readiness();

  ServiceOptions options_;
  mutable std::mutex model_mutex_;
  std::shared_ptr<const LoadedModel> model_;  // guarded by model_mutex_
  std::vector<ServerHistory> stores_;
  std::unordered_map<std::string, size_t> store_index_;  // ServerIP -> stores_ index
  ServiceMetrics metrics_;
};

// `{"error": "<message>"}` with the message escaped.
std::string error_body(std::string_view message);

// Appends `s` as a JSON string, exactly as nlohmann's dump writes it (UTF-8
// kept, invalid bytes replaced by U+FFFD).
void append_json_string(std::string& out, std::string_view s);

// Header names and media types compare without regard to ASCII case.
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace loadcast::serve
