#include "serve/serve_fixture.h"

#include <chrono>

#include "config/config.h"
#include "etl/etl.h"
#include "model/trainer.h"
#include "store/tables.h"

namespace loadcast::testing {

GoldenBundle::GoldenBundle() : output_(temp_.path() / "out") {
  Config config = load_config(std::filesystem::path(LOADCAST_GOLDEN_DIR) / "config.json");
  config.output = output_;
  run_etl(config, EtlOptions{});
  const auto rows = read_feature_table(output_ / "features", default_feature_schema());
  TrainRequest request;
  TrainOutcome outcome = train_model(config, rows, request);
  outcome.model->save(model_dir());
}

std::vector<FeatureRow> GoldenBundle::etl_rows(const std::string& server, const std::string& start,
                                               int hours) const {
  const int64_t first = seconds_of(*parse_timestamp(start));
  std::vector<FeatureRow> out;
  for (FeatureRow& row : read_feature_table(output_ / "features", default_feature_schema()))
    if (row.server_ip == server && row.hour >= first && row.hour < first + hours * kSecondsPerHour)
      out.push_back(std::move(row));
  return out;
}

serve::ServiceOptions open_options() {
  serve::ServiceOptions options;
  options.require_auth = false;
  return options;
}

LocalService::LocalService(const GoldenBundle& bundle, serve::ServiceOptions options, int threads) {
  service_ = std::make_unique<serve::ScoringService>(
      std::move(options), serve::load_model_bundle(bundle.model_dir()),
      read_stores(bundle.output(), default_feature_schema()));
  serve::HttpOptions http;
  http.port = 0;
  http.threads = threads;
  http.access_log = false;
  server_ = std::make_unique<serve::HttpServer>(*service_, http);
  port_ = server_->bind();
  thread_ = std::thread([this] { server_->serve(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

LocalService::~LocalService() {
  server_->stop();
  thread_.join();
}

httplib::Client LocalService::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  c.set_tcp_nodelay(true);
  return c;
}

}  // namespace loadcast::testing
