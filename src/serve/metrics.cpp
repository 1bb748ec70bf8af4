#include "serve/metrics.h"

#include <cstdio>

namespace loadcast::serve {

std::string_view path_label(std::string_view path) {
  static constexpr std::string_view kKnown[] = {"/score",   "/invocations", "/v1/predict", "/v1/forecast",
                                                "/healthz", "/readyz",      "/metrics",    "/v1/model"};
  for (std::string_view known : kKnown)
    if (path == known) return known;
  return "other";
}

void ServiceMetrics::record_request(std::string_view path, int status, double seconds) {
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(path_label(path)), status}];
  ++latency_counts_[bucket];
  latency_sum_ += seconds;
}

int64_t ServiceMetrics::requests(std::string_view path, int status) const {
  std::lock_guard lock(mutex_);
  const auto it = requests_.find({std::string(path_label(path)), status});
  return it == requests_.end() ? 0 : it->second;
}

std::string ServiceMetrics::prometheus_text(const std::string& model_version) const {
  std::string out;
  char line[256];
  auto add = [&](const char* format, auto... args) {
    std::snprintf(line, sizeof line, format, args...);
    out += line;
  };
  std::lock_guard lock(mutex_);
  out += "# HELP loadcast_http_requests_total HTTP requests by path and status.\n"
         "# TYPE loadcast_http_requests_total counter\n";
  for (const auto& [key, count] : requests_)
    add("loadcast_http_requests_total{path=\"%s\",status=\"%d\"} %lld\n", key.first.c_str(), key.second,
        static_cast<long long>(count));

  out += "# HELP loadcast_http_request_duration_seconds Time from routing to response.\n"
         "# TYPE loadcast_http_request_duration_seconds histogram\n";
  int64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
    cumulative += latency_counts_[i];
    add("loadcast_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", kLatencyBounds[i],
        static_cast<long long>(cumulative));
  }
  cumulative += latency_counts_.back();
  add("loadcast_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n", static_cast<long long>(cumulative));
  add("loadcast_http_request_duration_seconds_sum %.9g\n", latency_sum_);
  add("loadcast_http_request_duration_seconds_count %lld\n", static_cast<long long>(cumulative));

  out += "# HELP loadcast_rows_scored_total Feature rows scored by the model.\n"
         "# TYPE loadcast_rows_scored_total counter\n";
  add("loadcast_rows_scored_total %lld\n", static_cast<long long>(rows_scored()));
  out += "# HELP loadcast_model_reloads_total Bundle reloads (SIGHUP) by result.\n"
         "# TYPE loadcast_model_reloads_total counter\n";
  add("loadcast_model_reloads_total{result=\"ok\"} %lld\n", static_cast<long long>(reloads_ok_.load()));
  add("loadcast_model_reloads_total{result=\"failed\"} %lld\n", static_cast<long long>(reloads_failed_.load()));
  out += "# HELP loadcast_model_info The model being served (value 1).\n"
         "# TYPE loadcast_model_info gauge\n";
  if (!model_version.empty()) out += "loadcast_model_info{version=\"" + model_version + "\"} 1\n";
  return out;
}

}  // namespace loadcast::serve
