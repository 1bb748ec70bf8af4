// `loadcast forecast`: the next hours of the whole fleet from the stores,
// scored in batch (model/forecast.h), written as a table and summarised:
// which servers can be packed together and which run hot.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "common/stopwatch.h"
#include "common/time.h"
#include "dist/job.h"
#include "model/forecast.h"
#include "serve/service.h"
#include "store/tables.h"
#include "track/registry.h"

namespace loadcast::app {

namespace {

// IPs from a comma-separated list, or one per line of a file.
std::vector<std::string> server_list(const std::string& text) {
  std::vector<std::string> out;
  std::string all = text;
  if (std::filesystem::is_regular_file(text)) {
    std::ifstream in(text);
    std::stringstream buffer;
    buffer << in.rdbuf();
    all = buffer.str();
    for (char& c : all)
      if (c == '\n' || c == '\r') c = ',';
  }
  std::stringstream items(all);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    out.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
  }
  if (out.empty()) fail_usage("--servers '" + text + "': no server named");
  return out;
}

std::string join(const std::vector<std::string>& items, size_t most) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < most; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > most) out += ", ... (" + std::to_string(items.size() - most) + " more)";
  return out.empty() ? "none" : out;
}

}  // namespace

int run_forecast(int argc, char** argv) {
  CLI::App cli(
      "Forecasts the next hours of every server in the stores (or of --servers) with a model "
      "bundle: builds each server's feature rows after its stored history, as /v1/forecast "
      "does, scores them in batch, writes the table (ServerIP, hour, prediction, label, the "
      "three probabilities) to --out and prints a summary: servers low in every hour "
      "(candidates to pack together), servers high in some hour (hot), and per hour the "
      "servers of each class and the expected number of busy (medium or high) servers.",
      "loadcast forecast");
  std::string model_ref;
  std::string stores;
  std::string start_text;
  int64_t hours = 48;
  std::string servers_text;
  std::string out;
  std::string format = "csv";
  bool json = false;
  int threads = dist::default_threads();
  std::string workspace;
  cli.add_option("--model", model_ref,
                 "model bundle folder, NAME@VERSION / NAME@STAGE, or a blob output's URL")
      ->required();
  cli.add_option("--stores", stores,
                 "an etl output folder holding hourly/ and daily/, or a blob output's URL")
      ->required();
  cli.add_option("--start", start_text,
                 "first hour for every server (YYYY-MM-DD HH:00:00, UTC); default: the hour "
                 "after each server's last stored hour");
  cli.add_option("--hours", hours, "hours per server")
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 366))
      ->capture_default_str();
  cli.add_option("--servers", servers_text,
                 "the servers to forecast: IP,IP,... or a file of one IP per line (default: all)");
  cli.add_option("--out", out, "where the table goes (default: only the summary)");
  cli.add_option("--format", format, "the table's format")
      ->check(CLI::IsMember({"csv", "json", "parquet"}))
      ->capture_default_str();
  cli.add_flag("--json", json, "print the summary as JSON instead of text");
  cli.add_option("--threads", threads, "threads building and scoring rows")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;

  track::RunRecorder run({workspace, "forecast", recorded_arguments(argc, argv), "", threads});
  return run_recorded(run, [&] {
    const Stopwatch clock;
    ForecastRequest request;
    request.hours = hours;
    request.threads = threads;
    if (!start_text.empty()) {
      const auto t = parse_timestamp(start_text);
      if (!t || *t % (kSecondsPerHour * kNanosPerSecond) != 0)
        fail_usage("--start: not a whole hour (YYYY-MM-DD HH:00:00): '" + start_text + "'");
      request.start = seconds_of(*t);
    }
    if (!servers_text.empty()) request.servers = server_list(servers_text);
    const auto model = load_model_reference(workspace, model_ref);
    const double model_seconds = clock.seconds();
    const std::vector<ServerHistory> histories = read_stores_at(stores, model->model.schema());
    const double stores_seconds = clock.seconds() - model_seconds;
    Progress progress(
        "forecast",
        static_cast<int64_t>(request.servers.empty() ? histories.size() : request.servers.size()),
        "servers", Progress::stderr_is_terminal());
    request.progress = &progress;
    const std::vector<ServerForecast> forecasts = forecast_fleet(model->model, histories, request);
    progress.finish();
    const ForecastSummary summary = summarize(forecasts);
    const double forecast_seconds = clock.seconds() - model_seconds - stores_seconds;
    if (!out.empty())
      write_forecast(out,
                     format == "json"      ? ForecastFormat::kJson
                     : format == "parquet" ? ForecastFormat::kParquet
                                           : ForecastFormat::kCsv,
                     forecasts, model->model.schema());
    const double seconds = clock.seconds();

    run.param("model", blob::is_blob_url(model_ref) ? model_ref : model->path.string());
    run.param("modelVersion", model->version);
    run.param("stores", stores);
    run.param("hours", std::to_string(hours));
    run.param("threads", std::to_string(threads));
    run.metric("servers", static_cast<double>(summary.servers));
    run.metric("rows", static_cast<double>(summary.rows));
    run.metric("idle_servers", static_cast<double>(summary.idle.size()));
    run.metric("hot_servers", static_cast<double>(summary.hot.size()));
    run.metric("seconds", seconds);
    run.metric("forecast_seconds", forecast_seconds);
    if (!out.empty()) run.artifact("forecast", out);

    if (json) {
      nlohmann::json j = to_json(summary);
      j["model"] = model->version;
      j["seconds"] = {{"model", model_seconds},
                      {"stores", stores_seconds},
                      {"forecast", forecast_seconds},
                      {"total", seconds}};
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    std::printf(
        "forecast of %lld servers x %lld hours (%lld rows) in %.3f s (%.3f s after loading the "
        "model and the stores), model %s%s\n",
        static_cast<long long>(summary.servers), static_cast<long long>(hours),
        static_cast<long long>(summary.rows), seconds, forecast_seconds, model->version.c_str(),
        out.empty() ? "" : (" -> " + out).c_str());
    std::printf("low in every hour (%zu, candidates to pack together): %s\n", summary.idle.size(),
                join(summary.idle, 20).c_str());
    std::printf("high in some hour (%zu, hot): %s\n", summary.hot.size(),
                join(summary.hot, 20).c_str());
    std::printf("%-19s %7s %7s %7s %14s\n", "hour", "low", "medium", "high", "expected busy");
    for (const ForecastSummary::Hour& h : summary.hours)
      std::printf("%-19s %7lld %7lld %7lld %14.1f\n", format_timestamp(h.hour).c_str(),
                  static_cast<long long>(h.counts[0]), static_cast<long long>(h.counts[1]),
                  static_cast<long long>(h.counts[2]), h.expected_busy);
    return 0;
  });
}

}  // namespace loadcast::app
