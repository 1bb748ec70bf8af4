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
  kMetrics
};

struct Route {
  Endpoint endpoint;
  std::string_view path;
  std::string_view method;  // GET also answers HEAD
  bool needs_key;           // Authorization: Bearer <key>, unless the service runs --no-auth
  std::string_view summary;
};

inline constexpr std::array<Route, 8> kRoutes = {{
    {Endpoint::kScore, "/score", "POST", true, "the seed's web-service contract"},
    {Endpoint::kInvocations, "/invocations", "POST", true, "MLflow's scoring contract"},
    {Endpoint::kPredict, "/v1/predict", "POST", true,
     "records in, labels and class probabilities out"},
    {Endpoint::kForecast, "/v1/forecast", "POST", true, "one server's next hours, from the stores"},
    {Endpoint::kModel, "/v1/model", "GET", true, "the bundle's info and metrics"},
    {Endpoint::kHealth, "/healthz", "GET", false, "liveness"},
    {Endpoint::kReady, "/readyz", "GET", false, "ready once a model is loaded"},
    {Endpoint::kMetrics, "/metrics", "GET", false, "Prometheus text"},
}};

// The route of `path`, null for a path the service does not serve.
inline const Route* find_route(std::string_view path) {
  for (const Route& r : kRoutes)
    if (r.path == path) return &r;
  return nullptr;
}

}  // namespace loadcast::serve
