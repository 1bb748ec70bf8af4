// `loadcast score CONFIG`: the scoring client of docs/http-api.md. Builds one server's
// 48 hourly feature records from the stores, posts them to the service's
// /score endpoint and prints one prediction per hour.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "blob_places.h"
#include "cli_support.h"
#include "client/score_client.h"
#include "commands.h"
#include "common/error.h"
#include "common/time.h"
#include "eval/metrics.h"
#include "store/tables.h"

namespace loadcast::app {

int run_score(int argc, char** argv) {
  CLI::App cli(
      "Reads webservice.json (url, authorization, statsLocation), builds the hourly feature "
      "records "
      "of --server-ip for --hours hours from --start out of the hourly/daily stores under "
      "statsLocation, posts them to the service's /score endpoint and prints one prediction per "
      "hour. Connection errors, timeouts and 5xx answers are retried with exponential backoff. "
      "Exit 3 when the server is not in the stores, 1 when the service stays unreachable.",
      "loadcast score");
  std::string config_path;
  std::string server_ip = "210.181.165.92";
  std::string start_text = "2016-07-01 00:00:00";
  int hours = 48;
  client::RetryPolicy policy;
  int retries = policy.attempts - 1;
  std::string workspace;
  cli.add_option("CONFIG", config_path, "webservice.json (url, authorization, statsLocation)")
      ->required();
  cli.add_option("--server-ip", server_ip, "the server to forecast")->capture_default_str();
  cli.add_option("--start", start_text, "first hour of the forecast (YYYY-MM-DD HH:00:00, UTC)")
      ->capture_default_str();
  cli.add_option("--hours", hours, "hours to forecast")
      ->check(CLI::Range(1, 24 * 14))
      ->capture_default_str();
  cli.add_option("--retries", retries, "retries after the first attempt")
      ->check(CLI::Range(0, 20))
      ->capture_default_str();
  cli.add_option("--backoff-ms", policy.first_backoff_ms,
                 "wait before the first retry; doubles each time")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  cli.add_option("--timeout", policy.read_timeout_s, "seconds to wait for the answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  policy.attempts = retries + 1;

  track::RunRecorder run({workspace, "score", recorded_arguments(argc, argv), config_path, 1});
  return run_recorded(run, [&] {
    const auto start = parse_timestamp(start_text);
    if (!start || *start % (kSecondsPerHour * kNanosPerSecond) != 0)
      fail_usage("--start: not a whole hour (YYYY-MM-DD HH:00:00): '" + start_text + "'");
    const client::WebServiceConfig config = client::load_webservice_config(config_path);

    const std::vector<ServerHistory> histories =
        read_stores_at(config.stats_location.string(), default_feature_schema());
    const auto history =
        std::find_if(histories.begin(), histories.end(),
                     [&](const ServerHistory& h) { return h.server_ip == server_ip; });
    if (history == histories.end())
      fail_data("server " + server_ip + " is not in the stores under " +
                config.stats_location.string());

    const auto records = client::forecast_records(*history, seconds_of(*start), hours);
    const auto predictions =
        client::post_score(config, records, policy, [](const std::string& problem) {
          std::fprintf(stderr, "loadcast score: %s\n", problem.c_str());
        });
    int64_t counts[4] = {0, 0, 0, 0};
    for (const auto& p : predictions) {
      const char* name =
          p.label >= 1 && p.label <= 3 ? kLabelNames[static_cast<size_t>(p.label - 1)] : "unknown";
      std::printf("%s  %s (%d)\n", format_timestamp(p.hour).c_str(), name, p.label);
      ++counts[p.label >= 1 && p.label <= 3 ? p.label : 0];
    }
    run.param("server_ip", server_ip);
    run.param("start", start_text);
    run.param("hours", std::to_string(hours));
    run.param("url", config.url);
    run.metric("predictions", static_cast<double>(predictions.size()));
    for (int label = 1; label <= 3; ++label)
      run.metric(std::string("hours_") + kLabelNames[static_cast<size_t>(label - 1)],
                 counts[label]);
    return 0;
  });
}

}  // namespace loadcast::app
