// Test support for the scoring service: a model bundle and stores trained on
// the golden case, an in-process server on a free loopback port, and an HTTP
// client for it.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "features/feature_row.h"
#include "serve/http_server.h"
#include "serve/service.h"
#include "support/csv.h"

namespace loadcast::testing {

// ETL + train on the golden case into a temporary folder: `out/model`,
// `out/hourly`, `out/daily`, `out/features`.
class GoldenBundle {
 public:
  GoldenBundle();
  const std::filesystem::path& output() const { return output_; }
  std::filesystem::path model_dir() const { return output_ / "model"; }
  // The ETL's own feature rows of `server` for `hours` hours from `start`.
  std::vector<FeatureRow> etl_rows(const std::string& server, const std::string& start,
                                   int hours) const;

 private:
  TempDir temp_;
  std::filesystem::path output_;
};

// A ScoringService behind an HttpServer on 127.0.0.1, served on a thread.
class LocalService {
 public:
  LocalService(const GoldenBundle& bundle, serve::ServiceOptions options, int threads = 2);
  ~LocalService();
  int port() const { return port_; }
  serve::ScoringService& service() { return *service_; }
  httplib::Client client() const;

 private:
  std::unique_ptr<serve::ScoringService> service_;
  std::unique_ptr<serve::HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

serve::ServiceOptions open_options();  // --no-auth

inline constexpr const char* kServer = "210.181.165.92";
inline constexpr const char* kStart = "2016-07-02 00:00:00";

}  // namespace loadcast::testing
