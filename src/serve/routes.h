// The scoring service's endpoints, listed once: the router, the metrics'
// path labels, `loadcast serve --help` and docs/http-api.md follow this list.
#pragma once

#include <array>
#include <string_view>

namespace loadcast::serve {

enum class Endpoint {
  kScore,
  kInvocations,
  kPredict,
  kForecast,
  kModel,
  kHealth,
  kReady,
  kMetrics,
  kPing,
  kMlflowHealth,
  kVersion
};

struct Route {
  Endpoint endpoint;
  std::string_view path;
  std::string_view method;  // GET also answers HEAD
  bool needs_key;           // Authorization: Bearer <key>, unless the service runs --no-auth
  std::string_view summary;
};

inline constexpr std::array<Route, 11> kRoutes = {{
    {Endpoint::kScore, "/score", "POST", true, "the seed's web-service contract"},
    {Endpoint::kInvocations, "/invocations", "POST", true, "MLflow's scoring contract"},
    {Endpoint::kPredict, "/v1/predict", "POST", true,
     "records in, labels and class probabilities out"},
    {Endpoint::kForecast, "/v1/forecast", "POST", true, "one server's next hours, from the stores"},
    {Endpoint::kModel, "/v1/model", "GET", true, "the bundle's info and metrics"},
    {Endpoint::kHealth, "/healthz", "GET", false, "liveness"},
    {Endpoint::kReady, "/readyz", "GET", false, "ready once a model is loaded"},
    {Endpoint::kMetrics, "/metrics", "GET", false, "Prometheus text"},
    {Endpoint::kPing, "/ping", "GET", false, "MLflow's readiness: 200 once a model is loaded"},
    {Endpoint::kMlflowHealth, "/health", "GET", false, "the same, MLflow's other name"},
    {Endpoint::kVersion, "/version", "GET", false, "the program's version, as text"},
}};

// The route of `path`, null for a path the service does not serve.
inline const Route* find_route(std::string_view path) {
  for (const Route& r : kRoutes)
    if (r.path == path) return &r;
  return nullptr;
}

}  // namespace loadcast::serve
