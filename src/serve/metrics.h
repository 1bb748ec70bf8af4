// The scoring service's counters in Prometheus text format (docs/http-api.md):
// requests by path and status, a latency histogram, rows scored, reloads and
// the model version. Lock-free (relaxed atomics: every request updates them);
// paths outside the API count as "other" so that clients cannot grow the
// label set.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/routes.h"

namespace loadcast::serve {

// The path labels: the service's endpoints (routes.h), then "other".
inline constexpr std::array<std::string_view, kRoutes.size() + 1> kPathLabels = [] {
  std::array<std::string_view, kRoutes.size() + 1> labels{};
  for (size_t i = 0; i < kRoutes.size(); ++i) labels[i] = kRoutes[i].path;
  labels[kRoutes.size()] = "other";
  return labels;
}();

class ServiceMetrics {
 public:
  void record_request(std::string_view path, int status, double seconds);
  void add_rows_scored(int64_t rows) { rows_scored_.fetch_add(rows, std::memory_order_relaxed); }
  void record_reload(bool ok) {
    (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed);
  }

  // The exposition text; `model_version` empty when no model is loaded.
  std::string prometheus_text(const std::string& model_version) const;

  int64_t requests(std::string_view path, int status) const;
  int64_t rows_scored() const { return rows_scored_.load(std::memory_order_relaxed); }

  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kLatencyBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
  // Statuses counted one by one; any other counts as 599.
  static constexpr int kFirstStatus = 100;
  static constexpr int kLastStatus = 599;

 private:
  static constexpr size_t kStatuses = kLastStatus - kFirstStatus + 1;
  static size_t slot(std::string_view path, int status);

  std::array<std::atomic<int64_t>, kPathLabels.size() * kStatuses> requests_{};
  std::array<std::atomic<int64_t>, kLatencyBounds.size() + 1> latency_counts_{};  // last = +Inf
  std::atomic<int64_t> latency_sum_ns_{0};
  std::atomic<int64_t> rows_scored_{0};
  std::atomic<int64_t> reloads_ok_{0};
  std::atomic<int64_t> reloads_failed_{0};
};

// The path label of a request: itself for the service's endpoints, else "other".
std::string_view path_label(std::string_view path);

}  // namespace loadcast::serve
