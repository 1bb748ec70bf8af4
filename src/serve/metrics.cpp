#include "serve/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <vector>

namespace loadcast::serve {
namespace {

size_t label_index(std::string_view path) {
  for (size_t i = 0; i + 1 < kPathLabels.size(); ++i)
    if (path == kPathLabels[i]) return i;
  return kPathLabels.size() - 1;
}

}  // namespace

std::string_view path_label(std::string_view path) { return kPathLabels[label_index(path)]; }

size_t ServiceMetrics::slot(std::string_view path, int status) {
  if (status < kFirstStatus || status > kLastStatus) status = kLastStatus;
  return label_index(path) * kStatuses + static_cast<size_t>(status - kFirstStatus);
}

void ServiceMetrics::record_request(std::string_view path, int status, double seconds) {
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  requests_[slot(path, status)].fetch_add(1, std::memory_order_relaxed);
  latency_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<int64_t>(std::llround(seconds * 1e9)),
                            std::memory_order_relaxed);
}

int64_t ServiceMetrics::requests(std::string_view path, int status) const {
  return requests_[slot(path, status)].load(std::memory_order_relaxed);
}

std::string ServiceMetrics::prometheus_text(const std::string& model_version) const {
  std::string out;
  char line[256];
  auto add = [&](const char* format, auto... args) {
    std::snprintf(line, sizeof line, format, args...);
    out += line;
  };
  out +=
      "# HELP loadcast_http_requests_total HTTP requests by path and status.\n"
      "# TYPE loadcast_http_requests_total counter\n";
  // Sorted by path label, then status.
  std::vector<std::tuple<std::string_view, int, int64_t>> counted;
  for (size_t p = 0; p < kPathLabels.size(); ++p) {
    for (size_t s = 0; s < kStatuses; ++s) {
      const int64_t count = requests_[p * kStatuses + s].load(std::memory_order_relaxed);
      if (count > 0)
        counted.emplace_back(kPathLabels[p], kFirstStatus + static_cast<int>(s), count);
    }
  }
  std::sort(counted.begin(), counted.end());
  for (const auto& [path, status, count] : counted)
    add("loadcast_http_requests_total{path=\"%.*s\",status=\"%d\"} %lld\n",
        static_cast<int>(path.size()), path.data(), status, static_cast<long long>(count));

  out +=
      "# HELP loadcast_http_request_duration_seconds Time from routing to response.\n"
      "# TYPE loadcast_http_request_duration_seconds histogram\n";
  int64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
    cumulative += latency_counts_[i].load(std::memory_order_relaxed);
    add("loadcast_http_request_duration_seconds_bucket{le=\"%g\"} %lld\n", kLatencyBounds[i],
        static_cast<long long>(cumulative));
  }
  cumulative += latency_counts_.back().load(std::memory_order_relaxed);
  add("loadcast_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n",
      static_cast<long long>(cumulative));
  add("loadcast_http_request_duration_seconds_sum %.9g\n",
      static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  add("loadcast_http_request_duration_seconds_count %lld\n", static_cast<long long>(cumulative));

  out +=
      "# HELP loadcast_rows_scored_total Feature rows scored by the model.\n"
      "# TYPE loadcast_rows_scored_total counter\n";
  add("loadcast_rows_scored_total %lld\n", static_cast<long long>(rows_scored()));
  out +=
      "# HELP loadcast_model_reloads_total Bundle reloads (SIGHUP) by result.\n"
      "# TYPE loadcast_model_reloads_total counter\n";
  add("loadcast_model_reloads_total{result=\"ok\"} %lld\n",
      static_cast<long long>(reloads_ok_.load()));
  add("loadcast_model_reloads_total{result=\"failed\"} %lld\n",
      static_cast<long long>(reloads_failed_.load()));
  out +=
      "# HELP loadcast_model_info The model being served (value 1).\n"
      "# TYPE loadcast_model_info gauge\n";
  if (!model_version.empty()) out += "loadcast_model_info{version=\"" + model_version + "\"} 1\n";
  return out;
}

}  // namespace loadcast::serve
