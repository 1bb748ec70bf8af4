// `loadcast etl CONFIG [FILTER_IP|FALSE]`: raw sessions -> feature table and stores.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "common/progress.h"
#include "config/config.h"
#include "etl/etl.h"
#include "track/run_details.h"

namespace loadcast::app {

int run_etl(int argc, char** argv) {
  CLI::App cli(
      "Reads raw session CSV (the configuration's dataFile: a path, a glob, or '-' for stdin), "
      "aggregates five-minute buckets, builds hourly peaks, daily means, lag, rolling and calendar "
      "features, and writes features/, hourly/, daily/ and etl_summary.json under the output "
      "folder. Every line is accounted for by reason in etl_summary.json.",
      "loadcast etl");
  std::string config_path;
  std::string mode = "FALSE";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string output;
  size_t chunk_mb = 8;
  std::string workspace;
  cli.add_option("CONFIG", config_path, "storageconfig.json (seed format, SPEC §2)")->required();
  cli.add_option("FILTER_IP", mode,
                 "FILTER_IP keeps only the servers of the configuration's filterIPs (a debug mode); "
                 "FALSE (default) keeps all")
      ->check(CLI::IsMember({"FILTER_IP", "FALSE"}));
  cli.add_option("--threads", threads, "parsing and feature threads (default: all cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_option("--output", output, "output folder (default: the configuration's 'output', else outputs/<storageContainer>)");
  cli.add_option("--chunk-mb", chunk_mb, "size of the line-aligned input chunks in MiB")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  track::RunRecorder run({workspace, "etl", recorded_arguments(argc, argv), config_path, threads});
  return run_recorded(run, [&] {
    Config config = load_config_for("etl", config_path);
    if (!output.empty()) config.output = output;

    EtlOptions options;
    options.threads = threads;
    options.filter_ip = mode == "FILTER_IP";
    options.progress = Progress::stderr_is_terminal();
    options.chunk_bytes = chunk_mb << 20;
    track::record_config(run, config);
    run.param("threads", std::to_string(threads));
    run.param("mode", mode);
    run.param("chunkMB", std::to_string(chunk_mb));
    const EtlReport report = run_etl(config, options);
    track::record_etl(run, config, report);

    const LineAccounting& a = report.accounting;
    std::printf("lines %lld: accepted %lld, outside_window %lld, filtered_ip %lld, blank %lld, "
                "field_count %lld, bad_timestamp %lld, bad_server_ip %lld\n",
                static_cast<long long>(a.lines), static_cast<long long>(a.accepted),
                static_cast<long long>(a.outside_window), static_cast<long long>(a.filtered_ip),
                static_cast<long long>(a.blank), static_cast<long long>(a.rejected[0]),
                static_cast<long long>(a.rejected[1]), static_cast<long long>(a.rejected[2]));
    std::printf("servers %lld, feature rows %lld, daily rows %lld -> %s\n", static_cast<long long>(report.servers),
                static_cast<long long>(report.rows), static_cast<long long>(report.daily_rows),
                config.output.string().c_str());
    std::printf("ingest %.2f s (%.0f MB/s), total %.2f s, %d threads\n", report.ingest_seconds,
                report.ingest_seconds > 0 ? a.bytes / 1e6 / report.ingest_seconds : 0.0, report.total_seconds,
                threads);
    return 0;
  });
}

}  // namespace loadcast::app
