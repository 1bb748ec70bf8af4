#include "etl/etl.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>

#include "common/error.h"
#include "common/hash.h"
#include "common/stopwatch.h"
#include "common/thread_pool.h"
#include "common/time.h"
#include "dist/job.h"
#include "dist/shuffle.h"
#include "features/engine.h"
#include "ingest/pipeline.h"
#include "store/atomic_dir.h"
#include "store/tables.h"

namespace loadcast {

namespace fs = std::filesystem;

namespace {

// One server's slice of the aggregate, in time order.
struct ServerSlice {
  std::string ip;
  size_t begin;  // into the sorted order
  size_t end;
};

// The accounting as etl_summary.json holds it: the line fates at the top
// level, "rejected" and "missing_values" as objects (the bytes go elsewhere).
nlohmann::json accounting_json(const LineAccounting& a) {
  nlohmann::json j;
  for_each_counter(a, [&](const CounterName& c, int64_t v) {
    if (c.kind == CounterKind::kBytes) return;
    if (c.group.empty()) {
      j[std::string(c.name)] = v;
    } else {
      j[std::string(c.group)][std::string(c.name)] = v;
    }
  });
  return j;
}

constexpr const char* kSummaryFile = "etl_summary.json";
constexpr const char* kServersKey = "servers";
constexpr const char* kRowsKey = "rows";

// Every counter of the line accounting, summed over the ranks.
LineAccounting sum_over_ranks(dist::Communicator& comm, const LineAccounting& a) {
  auto values = counter_values(a);
  comm.allreduce_sum(values);
  return accounting_of(values);
}

// The rules of a line's fate for this configuration.
LineRules line_rules(const Config& config, Layout layout, bool filter_ip) {
  LineRules rules;
  rules.layout = layout;
  rules.window_begin = config.train_begin;
  rules.window_end = config.train_end;
  rules.filter_ip = filter_ip;
  rules.filter_ips = config.filter_ips;
  return rules;
}

// What every rank must agree on before reading: rank 0 lists the inputs once
// (so all ranks cut the same chunks) and detects the layout.
struct InputPlan {
  std::vector<InputFile> files;
  Layout layout = Layout::kSessions17;
  int round_chunks = 0;
};

InputPlan plan_inputs(dist::Communicator& comm, const Config& config, const EtlOptions& options,
                      std::unique_ptr<ChunkSource>& source) {
  const nlohmann::json decided = dist::decide_on_root(comm, [&] {
    auto files = expand_inputs(config.data_file);
    source = std::make_unique<ChunkSource>(files, options.chunk_bytes, 0, comm.size());
    const Layout layout =
        resolve_layout(config.layout, source->peek(kLayoutSampleBytes), files.front().path);
    nlohmann::json j = {{kLayoutParam, static_cast<int>(layout)},
                        {"roundChunks", 2 * std::max(1, options.threads)}};
    for (const auto& f : files) j["files"].push_back({f.path, f.bytes});
    return j;
  });
  InputPlan plan;
  for (const auto& f : decided["files"])
    plan.files.push_back({f[0].get<std::string>(), f[1].get<int64_t>()});
  plan.layout = static_cast<Layout>(decided[kLayoutParam].get<int>());
  plan.round_chunks = decided["roundChunks"].get<int>();
  if (comm.rank() != 0)
    source =
        std::make_unique<ChunkSource>(plan.files, options.chunk_bytes, comm.rank(), comm.size());
  return plan;
}

// Orders the aggregate by server text, then bucket: entries are grouped by
// server with one counting pass, then each server's buckets sorted (they
// arrive nearly in time order, chunk after chunk).
std::vector<ServerSlice> slice_by_server(const std::vector<BucketTable::Entry>& entries,
                                         const ServerDictionary& dictionary,
                                         std::vector<std::pair<uint64_t, uint32_t>>& order) {
  // Each entry's server rank through a small open-addressing map (a fleet has
  // few servers: it stays in the first-level cache).
  std::vector<ServerKey> keys;
  std::vector<uint32_t> slots(64, UINT32_MAX);
  auto slot_of = [&](ServerKey server) -> uint32_t& {
    const size_t mask = slots.size() - 1;
    for (size_t i = mix64(server) & mask;; i = (i + 1) & mask)
      if (slots[i] == UINT32_MAX || keys[slots[i]] == server) return slots[i];
  };
  std::vector<uint32_t> server_of(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const ServerKey server = key_server(entries[i].key);
    uint32_t* slot = &slot_of(server);
    if (*slot == UINT32_MAX) {
      if ((keys.size() + 1) * 2 > slots.size()) {
        slots.assign(slots.size() * 2, UINT32_MAX);
        for (uint32_t k = 0; k < keys.size(); ++k) slot_of(keys[k]) = k;
        slot = &slot_of(server);
      }
      *slot = static_cast<uint32_t>(keys.size());
      keys.push_back(server);
    }
    server_of[i] = *slot;
  }
  std::vector<std::pair<std::string, uint32_t>> by_text;
  by_text.reserve(keys.size());
  for (uint32_t k = 0; k < keys.size(); ++k) by_text.emplace_back(dictionary.text_of(keys[k]), k);
  std::sort(by_text.begin(), by_text.end());
  std::vector<uint32_t> rank(keys.size());
  for (uint32_t r = 0; r < by_text.size(); ++r) rank[by_text[r].second] = r;

  // Counting sort by rank, then buckets within each server.
  std::vector<size_t> start(keys.size() + 1, 0);
  for (uint32_t k : server_of) ++start[rank[k] + 1];
  for (size_t r = 0; r < keys.size(); ++r) start[r + 1] += start[r];
  order.resize(entries.size());
  std::vector<size_t> next(start.begin(), start.end() - 1);
  for (uint32_t i = 0; i < entries.size(); ++i) {
    const uint64_t bucket_bits = entries[i].key & ((uint64_t{1} << kBucketBits) - 1);
    order[next[rank[server_of[i]]]++] = {bucket_bits, i};
  }
  std::vector<ServerSlice> slices;
  slices.reserve(keys.size());
  for (size_t r = 0; r < keys.size(); ++r) {
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(start[r]);
    const auto last = order.begin() + static_cast<std::ptrdiff_t>(start[r + 1]);
    if (!std::is_sorted(first, last)) std::sort(first, last);
    slices.push_back({std::move(by_text[r].first), start[r], start[r + 1]});
  }
  return slices;
}

// What rank 0's progress display counts towards: its share of the input.
int64_t progress_share(int64_t total_bytes, int ranks) {
  return total_bytes < 0 ? -1 : total_bytes / ranks;
}

}  // namespace

EtlReport run_etl(const Config& config, const EtlOptions& options) {
  const auto comm = dist::make_local_communicator();
  return run_etl(config, options, *comm);
}

EtlReport run_etl(const Config& config, const EtlOptions& options, dist::Communicator& comm) {
  const Stopwatch start;
  const bool root = comm.rank() == 0;
  const int threads = std::max(1, options.threads);
  EtlReport report;
  report.ranks = comm.size();

  // Ingest: parse this rank's chunks, round by round; each round's partials
  // go to the owners of their servers while the next round is parsed.
  std::unique_ptr<ChunkSource> source;
  const InputPlan plan = plan_inputs(comm, config, options, source);
  IngestOptions ingest_options;
  ingest_options.threads = threads;
  ingest_options.chunk_bytes = options.chunk_bytes;
  ingest_options.progress = options.progress && root;
  ingest_options.round_chunks = plan.round_chunks;
  ServerDictionary dictionary;
  BucketTable owned;
  dist::PartialShuffle shuffle(comm, dictionary, owned);
  const LineAccounting local =
      parse_rounds(*source, line_rules(config, plan.layout, options.filter_ip), dictionary,
                   ingest_options, progress_share(total_input_bytes(plan.files), comm.size()),
                   [&](std::vector<ChunkPartial>& round) {
                     const Stopwatch shuffle_start;
                     shuffle.exchange(round);
                     std::vector<int64_t> chunks = {static_cast<int64_t>(round.size())};
                     comm.allreduce_sum(chunks);
                     report.shuffle_seconds += shuffle_start.seconds();
                     dist::fault_point(comm, "shuffle");
                     return chunks[0] > 0;
                   });
  source.reset();
  report.accounting = sum_over_ranks(comm, local);
  report.ingest_seconds = start.seconds();
  if (!report.accounting.balanced())
    throw dist::CollectiveFailure(
        ExitCode::kInternal, "line accounting does not balance: " + describe(report.accounting));
  if (report.accounting.accepted == 0)
    throw dist::CollectiveFailure(ExitCode::kData, "no accepted rows in '" + config.data_file +
                                                       "' (" + describe(report.accounting) + ")");

  // Features of the servers this rank owns, into this rank's part files
  // inside the folders rank 0 stages.
  const Stopwatch features_start;
  const fs::path& out = config.output;
  const std::array<const char*, 3> tables = {"features", "hourly", "daily"};
  std::unique_ptr<OutputLock> lock;
  std::array<std::unique_ptr<StagedDirectory>, 3> staged;
  const nlohmann::json staging = dist::decide_on_root(comm, [&] {
    lock = std::make_unique<OutputLock>(out, "etl",
                                        std::vector<fs::path>{out / tables[0], out / tables[1],
                                                              out / tables[2], out / kSummaryFile});
    nlohmann::json paths = nlohmann::json::array();
    for (size_t t = 0; t < tables.size(); ++t) {
      staged[t] = std::make_unique<StagedDirectory>(out / tables[t]);
      paths.push_back(staged[t]->path().string());
    }
    return paths;
  });
  const FeatureSchema& schema = default_feature_schema();
  PartitionedCsvWriter features(staging[0].get<std::string>(), schema.names(), comm.rank());
  PartitionedCsvWriter hourly(staging[1].get<std::string>(), schema.hourly_store_names(),
                              comm.rank());
  PartitionedCsvWriter daily(staging[2].get<std::string>(), schema.daily_store_names(),
                             comm.rank());

  std::vector<std::pair<uint64_t, uint32_t>> order;
  const auto& entries = owned.entries();
  const std::vector<ServerSlice> slices = slice_by_server(entries, dictionary, order);
  FeatureParams params;
  params.train_begin = config.train_begin;
  params.low_threshold = config.low_threshold;
  params.high_threshold = config.high_threshold;

  // Servers are independent: build them in parallel batches, write in order.
  const size_t batch = static_cast<size_t>(threads) * 16;
  struct Built {
    ServerHistory history;
    std::vector<FeatureRow> rows;
  };
  std::vector<Built> built;
  std::vector<std::vector<ServerBucket>> buckets(static_cast<size_t>(threads));  // per worker
  for (size_t first = 0; first < slices.size(); first += batch) {
    const size_t count = std::min(batch, slices.size() - first);
    built.assign(count, Built{});
    run_tasks(count, threads, [&](size_t i, int worker) {
      const ServerSlice& s = slices[first + i];
      std::vector<ServerBucket>& mine = buckets[static_cast<size_t>(worker)];
      mine.clear();
      for (size_t k = s.begin; k < s.end; ++k) {
        const auto& e = entries[order[k].second];
        mine.push_back({key_bucket(e.key), e.sums});
      }
      built[i].history = history_from_buckets(s.ip, mine);
      append_grid_rows(built[i].history, params, built[i].rows);
    });
    for (const Built& b : built) {
      write_feature_rows(features, b.rows, schema);
      write_hourly_store(hourly, b.history);
      write_daily_store(daily, b.history);
    }
  }
  features.close();
  hourly.close();
  daily.close();
  dist::fault_point(comm, "write");

  // The totals; the reduction is also the barrier: no rank gets past it
  // before every rank's part files are written and synced.
  std::vector<int64_t> totals = {static_cast<int64_t>(slices.size()), features.rows_written,
                                 daily.rows_written, shuffle.bytes_sent()};
  comm.allreduce_sum(totals);
  report.servers = totals[0];
  report.rows = totals[1];
  report.daily_rows = totals[2];
  report.shuffle_bytes = totals[3];
  report.shuffle_rounds = shuffle.rounds();
  const double features_seconds = features_start.seconds();
  report.total_seconds = start.seconds();
  if (!root) return report;

  // The summary marks the output complete; it goes in place with the tables.
  nlohmann::json& s = report.summary;
  s = accounting_json(report.accounting);
  s[kServersKey] = report.servers;
  s[kRowsKey] = report.rows;
  s["dailyRows"] = report.daily_rows;
  s[kLayoutParam] = std::string(layout_name(plan.layout));  // the one detected
  s.update(window_params().to_json(config));
  s[kFilterIpsField] =
      options.filter_ip ? nlohmann::json(config.filter_ips) : nlohmann::json(nullptr);
  s["files"] = nlohmann::json::array();
  for (const auto& f : plan.files) s["files"].push_back(f.path);
  s["bytes"] = report.accounting.bytes;
  s["ranks"] = report.ranks;
  s["threads"] = threads;
  const double input_gb = report.accounting.bytes / 1e9;
  s["shuffle"] = {{"bytes", report.shuffle_bytes},
                  {"bytesPerInputGB", input_gb > 0 ? report.shuffle_bytes / input_gb : 0.0},
                  {"rounds", report.shuffle_rounds},
                  {"seconds", report.shuffle_seconds}};
  s["seconds"] = {{"ingest", report.ingest_seconds},
                  {"features", features_seconds},
                  {"total", report.total_seconds}};
  s["ingestMBPerSecond"] =
      report.ingest_seconds > 0 ? report.accounting.bytes / 1e6 / report.ingest_seconds : 0.0;
  s["version"] = LOADCAST_VERSION;
  StagedFile summary(out / kSummaryFile, s.dump(2) + "\n");
  // All four or none: a failure here leaves the previous output as it was.
  commit_together({staged[0].get(), staged[1].get(), staged[2].get(), &summary});
  return report;
}

void check_features_match(const Config& config) {
  std::ifstream in(config.output / kSummaryFile, std::ios::binary);
  if (!in) return;
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  // The window the features were made with; the split only decides which
  // rows train and which test, so it may differ.
  Window made = config;
  std::vector<std::string> others;
  window_params().read(summary, made, ParamSource{(config.output / kSummaryFile).string()}, others);
  made.test_split_start = config.test_split_start;
  const nlohmann::json theirs = window_params().to_json(made);
  const nlohmann::json mine = window_params().to_json(config);
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (theirs[it.key()] == *it) continue;
    fail_usage((config.output / kSummaryFile).string() + ": the feature table was made with " +
               it.key() + " " + theirs[it.key()].dump() + ", the configuration has " + it->dump() +
               " (run 'loadcast etl' with this configuration)");
  }
}

nlohmann::json read_data_accounting(const fs::path& output) {
  std::ifstream in(output / kSummaryFile, std::ios::binary);
  if (!in) return nullptr;
  try {
    const auto summary = nlohmann::json::parse(in);
    nlohmann::json accounting = nlohmann::json::object();
    const nlohmann::json keys = accounting_json(LineAccounting{});
    for (auto it = keys.begin(); it != keys.end(); ++it)
      if (summary.contains(it.key())) accounting[it.key()] = summary[it.key()];
    for (const char* key : {kServersKey, kRowsKey})
      if (summary.contains(key)) accounting[key] = summary[key];
    return accounting;
  } catch (const nlohmann::json::exception&) {
    return nullptr;
  }
}

}  // namespace loadcast
