// The next hours of servers from their stored histories: the feature rows
// the feature engine builds after a server's grid, and the model's
// predictions for them. /v1/forecast answers this for one server and
// `loadcast forecast` for a fleet, through the same functions; the fleet's
// summary says which servers can be packed together (low in every hour) and
// which run hot (high in some hour).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/progress.h"
#include "features/engine.h"
#include "model/model.h"

namespace loadcast {

enum class ForecastFormat { kCsv, kJson, kParquet };

// The hours [start, start + hours) of one server (start in epoch seconds, a
// whole hour), as the model's rows.
std::vector<FeatureRow> forecast_rows(const Model& model, const ServerHistory& history,
                                      int64_t start, int64_t hours);

struct ForecastRequest {
  std::optional<int64_t> start;      // epoch seconds; none: each server's next hour
  int64_t hours = 48;                // per server
  std::vector<std::string> servers;  // none: every server of the stores
  int threads = 1;
  Progress* progress = nullptr;  // advanced by one per server done, when given
};

struct ServerForecast {
  const ServerHistory* history = nullptr;
  int64_t start = 0;  // epoch seconds of the first hour
  std::vector<Prediction> predictions;
};

// Every requested server's forecast, in the order of the stores (or of
// `servers`). Throws Failure(kData) naming a server the stores do not hold.
std::vector<ServerForecast> forecast_fleet(const Model& model,
                                           std::span<const ServerHistory> stores,
                                           const ForecastRequest& request);

struct ForecastSummary {
  struct Hour {
    int64_t hour = 0;                          // epoch seconds
    std::array<int64_t, kNumLabels> counts{};  // servers predicted low, medium, high
    int64_t servers = 0;
    double expected_busy = 0;  // the sum of P(medium) + P(high): servers not idle
    double expected_high = 0;  // the sum of P(high)
  };
  int64_t servers = 0;
  int64_t rows = 0;
  std::vector<std::string> idle;  // low in every hour: consolidation candidates
  std::vector<std::string> hot;   // high in at least one hour
  std::vector<Hour> hours;        // in time order
};

ForecastSummary summarize(std::span<const ServerForecast> forecasts);
nlohmann::json to_json(const ForecastSummary& summary);

// Writes the table (ServerIP, SessionStartHourTime, prediction, label and
// the three probabilities) as CSV, JSON (an array of records) or Parquet,
// through a staged file renamed into place.
void write_forecast(const std::filesystem::path& path, ForecastFormat format,
                    std::span<const ServerForecast> forecasts, const FeatureSchema& schema);

}  // namespace loadcast
