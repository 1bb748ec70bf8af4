#include "model/forecast.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>

#include "common/error.h"
#include "common/faults.h"
#include "common/number.h"
#include "common/thread_pool.h"
#include "common/time.h"
#include "parquet/file.h"

namespace loadcast {

namespace fs = std::filesystem;

std::vector<FeatureRow> forecast_rows(const Model& model, const ServerHistory& history,
                                      int64_t start, int64_t hours) {
  FeatureParams params;
  params.schema = &model.schema();
  params.train_begin = model.info().train_begin;
  params.low_threshold = model.info().low_threshold;
  params.high_threshold = model.info().high_threshold;
  std::vector<FeatureRow> rows;
  rows.reserve(static_cast<size_t>(hours));
  for (int64_t h = 0; h < hours; ++h)
    rows.push_back(feature_row(history, start + h * kSecondsPerHour, params));
  return rows;
}

std::vector<ServerForecast> forecast_fleet(const Model& model,
                                           std::span<const ServerHistory> stores,
                                           const ForecastRequest& request) {
  std::vector<const ServerHistory*> chosen;
  if (request.servers.empty()) {
    for (const ServerHistory& h : stores) chosen.push_back(&h);
  } else {
    std::unordered_map<std::string_view, const ServerHistory*> by_ip;
    for (const ServerHistory& h : stores) by_ip.emplace(h.server_ip, &h);
    for (const std::string& ip : request.servers) {
      const auto found = by_ip.find(ip);
      if (found == by_ip.end())
        fail_data("server " + ip + " is not in the stores (they hold " +
                  std::to_string(stores.size()) + " servers)");
      chosen.push_back(found->second);
    }
  }
  std::vector<ServerForecast> out(chosen.size());
  run_tasks(chosen.size(), request.threads, [&](size_t i, int) {
    ServerForecast& f = out[i];
    f.history = chosen[i];
    f.start = request.start ? *request.start : (f.history->last_hour() + 1) * kSecondsPerHour;
    f.predictions = model.predict(forecast_rows(model, *f.history, f.start, request.hours));
    if (request.progress) request.progress->advance(1, request.hours);
  });
  return out;
}

ForecastSummary summarize(std::span<const ServerForecast> forecasts) {
  ForecastSummary s;
  std::map<int64_t, ForecastSummary::Hour> hours;
  for (const ServerForecast& f : forecasts) {
    ++s.servers;
    bool all_low = true;
    bool any_high = false;
    for (size_t h = 0; h < f.predictions.size(); ++h) {
      const Prediction& p = f.predictions[h];
      const int64_t hour = f.start + static_cast<int64_t>(h) * kSecondsPerHour;
      ForecastSummary::Hour& at = hours[hour];
      at.hour = hour;
      ++at.counts[static_cast<size_t>(p.label - 1)];
      ++at.servers;
      at.expected_busy += p.probability[1] + p.probability[2];
      at.expected_high += p.probability[2];
      all_low = all_low && p.label == 1;
      any_high = any_high || p.label == 3;
      ++s.rows;
    }
    if (all_low) s.idle.push_back(f.history->server_ip);
    if (any_high) s.hot.push_back(f.history->server_ip);
  }
  for (auto& [_, hour] : hours) s.hours.push_back(hour);
  return s;
}

nlohmann::json to_json(const ForecastSummary& s) {
  nlohmann::json hours = nlohmann::json::array();
  for (const ForecastSummary::Hour& h : s.hours) {
    nlohmann::json counts;
    for (int c = 0; c < kNumLabels; ++c) counts[kLabelNames[c]] = h.counts[static_cast<size_t>(c)];
    hours.push_back({{"hour", format_timestamp(h.hour)},
                     {"servers", h.servers},
                     {"counts", counts},
                     {"expectedBusy", h.expected_busy},
                     {"expectedHigh", h.expected_high}});
  }
  return {
      {"servers", s.servers}, {"rows", s.rows}, {"idle", s.idle}, {"hot", s.hot}, {"hours", hours}};
}

namespace {

constexpr const char* kPredictionColumn = "prediction";
constexpr std::array<const char*, kNumLabels> kProbabilityColumns = {
    "probabilityLow", "probabilityMedium", "probabilityHigh"};

void write_text_file(const fs::path& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) fail_data("cannot write '" + path.string() + "': " + std::strerror(errno));
  const bool ok = write_checked(file, text.data(), text.size(), path.string()) == text.size() &&
                  std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int error = errno;
  std::fclose(file);
  if (!ok) fail_data("cannot write '" + path.string() + "': " + std::strerror(error));
}

}  // namespace

void write_forecast(const fs::path& path, ForecastFormat format,
                    std::span<const ServerForecast> forecasts, const FeatureSchema& schema) {
  const std::string& server = schema.of(ColumnRole::kServer).name;
  const std::string& hour = schema.of(ColumnRole::kHour).name;
  const std::string& label = schema.of(ColumnRole::kLabel).name;
  // Written beside its place and renamed there: a failed write leaves the
  // previous table.
  const fs::path staged = path.string() + ".tmp-" + std::to_string(::getpid());
  try {
    if (format == ForecastFormat::kParquet) {
      using parquet::LogicalType;
      using parquet::PhysicalType;
      std::vector<parquet::Column> columns = {
          {server, PhysicalType::kByteArray, LogicalType::kString},
          {hour, PhysicalType::kInt64, LogicalType::kTimestampMicros},
          {kPredictionColumn, PhysicalType::kInt64, LogicalType::kNone},
          {label, PhysicalType::kByteArray, LogicalType::kString}};
      for (const char* p : kProbabilityColumns)
        columns.push_back({p, PhysicalType::kDouble, LogicalType::kNone});
      parquet::FileWriter writer(staged, columns);
      std::vector<parquet::ColumnValues> cells(columns.size());
      for (const ServerForecast& f : forecasts) {
        for (auto& c : cells) c.clear();
        for (size_t h = 0; h < f.predictions.size(); ++h) {
          const Prediction& p = f.predictions[h];
          cells[0].put_text(f.history->server_ip);
          cells[1].put_int64((f.start + static_cast<int64_t>(h) * kSecondsPerHour) * 1000000);
          cells[2].put_int64(p.label);
          cells[3].put_text(kLabelNames[static_cast<size_t>(p.label - 1)]);
          for (int c = 0; c < kNumLabels; ++c) cells[4 + c].put_double(p.probability[c]);
        }
        writer.append(cells);
      }
      writer.close();
    } else {
      std::string out;
      if (format == ForecastFormat::kCsv) {
        out = server + "," + hour + "," + kPredictionColumn + "," + label;
        for (const char* p : kProbabilityColumns) out += std::string(",") + p;
        out += '\n';
      } else {
        out = "[";
      }
      bool first = true;
      for (const ServerForecast& f : forecasts) {
        for (size_t h = 0; h < f.predictions.size(); ++h) {
          const Prediction& p = f.predictions[h];
          const std::string when =
              format_timestamp(f.start + static_cast<int64_t>(h) * kSecondsPerHour);
          const char* name = kLabelNames[static_cast<size_t>(p.label - 1)];
          if (format == ForecastFormat::kCsv) {
            out += f.history->server_ip + "," + when + ",";
            append_int(out, p.label);
            out += std::string(",") + name;
            for (const double q : p.probability) {
              out += ',';
              append_double(out, q);
            }
            out += '\n';
            continue;
          }
          nlohmann::json record = {{server, f.history->server_ip},
                                   {hour, when},
                                   {kPredictionColumn, p.label},
                                   {label, name}};
          for (int c = 0; c < kNumLabels; ++c) record[kProbabilityColumns[c]] = p.probability[c];
          out += (first ? "\n" : ",\n") + record.dump();
          first = false;
        }
      }
      if (format == ForecastFormat::kJson) out += "\n]\n";
      write_text_file(staged, out);
    }
    std::error_code ec;
    fs::rename(staged, path, ec);
    if (ec) fail_data("cannot write '" + path.string() + "': " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(staged, ec);
    throw;
  }
}

}  // namespace loadcast
