// `loadcast ui`: the run dashboard (docs/dashboard.md). Server-rendered
// pages over a workspace's run history and model registry and, given a model
// and stores, the fleet's forecast: the runs table, a run, runs side by side,
// the registry, the fleet and one server. Read-only unless started with
// writes allowed; promoting a version then also needs a service key.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "features/engine.h"
#include "model/forecast.h"
#include "serve/auth.h"
#include "serve/handler.h"
#include "serve/service.h"
#include "track/run_store.h"

namespace loadcast::ui {

struct DashboardOptions {
  std::filesystem::path workspace;
  bool allow_writes = false;
  serve::ServiceKeys keys;                          // for promoting, with allow_writes
  std::shared_ptr<const serve::LoadedModel> model;  // the fleet pages, with stores
  std::vector<ServerHistory> stores;
  int threads = 1;  // for the fleet's forecast
  size_t runs_per_page = 100;
  int history_days = 14;  // a server's load history shown
};

class Dashboard : public serve::HttpHandler {
 public:
  // Opens the workspace's run history (never creating it) and, with a model
  // and stores, forecasts the fleet's next 48 hours once. Throws
  // Failure(kUsage) when the workspace has no run history.
  explicit Dashboard(DashboardOptions options);

  serve::HttpResponse handle(const serve::HttpRequest& request) override;
  size_t max_body_bytes() const override { return 64u << 10; }
  void record_request(std::string_view, int, double) override {}

 private:
  serve::HttpResponse runs_page(const serve::HttpRequest& request);
  serve::HttpResponse run_page(int64_t id);
  serve::HttpResponse compare_page(const serve::HttpRequest& request);
  serve::HttpResponse models_page(const std::string& message);
  serve::HttpResponse promote(const serve::HttpRequest& request);
  serve::HttpResponse fleet_page();
  serve::HttpResponse server_page(const std::string& server);

  DashboardOptions options_;
  std::mutex store_mutex_;  // SQLite connections are not shared across threads
  std::unique_ptr<track::RunStore> store_;
  std::vector<ServerForecast> fleet_;
  std::unordered_map<std::string, size_t> fleet_index_;  // ServerIP -> fleet_ / stores index
};

}  // namespace loadcast::ui
