#include "etl/etl.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "common/error.h"
#include "common/time.h"
#include "features/engine.h"
#include "ingest/pipeline.h"
#include "store/atomic_dir.h"
#include "store/tables.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One server's slice of the aggregate, in time order.
struct ServerSlice {
  std::string ip;
  size_t begin;  // into the sorted order
  size_t end;
};

nlohmann::json accounting_json(const LineAccounting& a) {
  nlohmann::json j;
  j["lines"] = a.lines;
  j["accepted"] = a.accepted;
  j["outside_window"] = a.outside_window;
  j["filtered_ip"] = a.filtered_ip;
  j["blank"] = a.blank;
  for (int r = 0; r < kNumRejectReasons; ++r) j["rejected"][std::string(kRejectNames[r])] = a.rejected[r];
  for (int m = 0; m < kNumMeasures; ++m)
    j["missing_values"][std::string(kMeasureFieldNames[m])] = a.missing_values[m];
  return j;
}

std::string describe(const LineAccounting& a) {
  std::string s = std::to_string(a.lines) + " lines: " + std::to_string(a.accepted) + " accepted, " +
                  std::to_string(a.outside_window) + " outside the window, " + std::to_string(a.filtered_ip) +
                  " filtered, " + std::to_string(a.blank) + " blank";
  for (int r = 0; r < kNumRejectReasons; ++r)
    s += ", " + std::to_string(a.rejected[r]) + " " + std::string(kRejectNames[r]);
  return s;
}

}  // namespace

EtlReport run_etl(const Config& config, const EtlOptions& options) {
  const auto start = Clock::now();
  IngestOptions ingest_options;
  ingest_options.threads = options.threads;
  ingest_options.filter_ip = options.filter_ip;
  ingest_options.chunk_bytes = options.chunk_bytes;
  ingest_options.progress = options.progress;
  IngestResult ingested = ingest(config, ingest_options);

  EtlReport report;
  report.accounting = ingested.accounting;
  report.ingest_seconds = ingested.seconds;
  if (!report.accounting.balanced())
    fail_internal("line accounting does not balance: " + describe(report.accounting));
  if (report.accounting.accepted == 0)
    fail_data("no accepted rows in '" + config.data_file + "' (" + describe(report.accounting) + ")");

  // Order the aggregate by server text, then bucket.
  const auto features_start = Clock::now();
  auto& entries = ingested.buckets.entries();
  std::unordered_map<ServerKey, uint32_t> rank;
  for (const auto& e : entries) rank.try_emplace(key_server(e.key), 0);
  std::vector<std::pair<std::string, ServerKey>> servers;
  servers.reserve(rank.size());
  for (const auto& [key, _] : rank) servers.emplace_back(ingested.servers->text_of(key), key);
  std::sort(servers.begin(), servers.end());
  for (uint32_t i = 0; i < servers.size(); ++i) rank[servers[i].second] = i;
  std::vector<std::pair<uint64_t, uint32_t>> order(entries.size());
  for (uint32_t i = 0; i < entries.size(); ++i) {
    const uint64_t bucket_bits = entries[i].key & ((uint64_t{1} << kBucketBits) - 1);
    order[i] = {(uint64_t{rank[key_server(entries[i].key)]} << kBucketBits) | bucket_bits, i};
  }
  std::sort(order.begin(), order.end());
  std::vector<ServerSlice> slices;
  for (size_t i = 0; i < order.size();) {
    const uint64_t server_rank = order[i].first >> kBucketBits;
    size_t j = i;
    while (j < order.size() && (order[j].first >> kBucketBits) == server_rank) ++j;
    slices.push_back({servers[server_rank].first, i, j});
    i = j;
  }
  report.servers = static_cast<int64_t>(slices.size());

  FeatureParams params;
  params.train_begin = config.train_begin;
  params.low_threshold = config.low_threshold;
  params.high_threshold = config.high_threshold;

  const fs::path& out = config.output;
  StagedDirectory features_dir(out / "features");
  StagedDirectory hourly_dir(out / "hourly");
  StagedDirectory daily_dir(out / "daily");
  PartitionedCsvWriter features(features_dir.path(), feature_table_columns());
  PartitionedCsvWriter hourly(hourly_dir.path(), hourly_store_columns());
  PartitionedCsvWriter daily(daily_dir.path(), daily_store_columns());

  // Servers are independent: build them in parallel batches, write in order.
  const int threads = std::max(1, options.threads);
  const size_t batch = static_cast<size_t>(threads) * 16;
  struct Built {
    ServerHistory history;
    std::vector<FeatureRow> rows;
  };
  std::vector<Built> built;
  for (size_t first = 0; first < slices.size(); first += batch) {
    const size_t count = std::min(batch, slices.size() - first);
    built.assign(count, Built{});
    auto build = [&](size_t t) {
      std::vector<ServerBucket> buckets;
      for (size_t i = t; i < count; i += static_cast<size_t>(threads)) {
        const ServerSlice& s = slices[first + i];
        buckets.clear();
        for (size_t k = s.begin; k < s.end; ++k) {
          const auto& e = entries[order[k].second];
          buckets.push_back({key_bucket(e.key), e.sums});
        }
        built[i].history = history_from_buckets(s.ip, buckets);
        append_grid_rows(built[i].history, params, built[i].rows);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(build, static_cast<size_t>(t));
    build(0);
    for (auto& th : pool) th.join();
    for (const Built& b : built) {
      write_feature_rows(features, b.rows);
      write_hourly_store(hourly, b.history);
      write_daily_store(daily, b.history);
    }
  }
  features.close();
  hourly.close();
  daily.close();
  report.rows = features.rows_written;
  report.daily_rows = daily.rows_written;
  const double features_seconds = seconds_since(features_start);

  features_dir.commit();
  hourly_dir.commit();
  daily_dir.commit();
  report.total_seconds = seconds_since(start);

  // The summary is written last: it marks the output complete.
  nlohmann::json& s = report.summary;
  s = accounting_json(report.accounting);
  s["servers"] = report.servers;
  s["rows"] = report.rows;
  s["dailyRows"] = report.daily_rows;
  s["layout"] = layout_name(ingested.layout);
  s["trainBegin"] = format_timestamp(seconds_of(config.train_begin));
  s["trainEnd"] = format_timestamp(seconds_of(config.train_end));
  s["testSplitStart"] = format_timestamp(seconds_of(config.test_split_start));
  s["lowThreshold"] = config.low_threshold;
  s["highThreshold"] = config.high_threshold;
  s["filterIPs"] = options.filter_ip ? nlohmann::json(config.filter_ips) : nlohmann::json(nullptr);
  s["files"] = nlohmann::json::array();
  for (const auto& f : ingested.files) s["files"].push_back(f.path);
  s["bytes"] = report.accounting.bytes;
  s["threads"] = threads;
  s["seconds"] = {{"ingest", report.ingest_seconds}, {"features", features_seconds}, {"total", report.total_seconds}};
  s["ingestMBPerSecond"] = report.ingest_seconds > 0 ? report.accounting.bytes / 1e6 / report.ingest_seconds : 0.0;
  s["version"] = LOADCAST_VERSION;
  write_file_atomically(out / "etl_summary.json", s.dump(2) + "\n");
  return report;
}

}  // namespace loadcast
