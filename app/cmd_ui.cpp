// `loadcast ui`: the run dashboard of docs/dashboard.md, served until
// SIGTERM/SIGINT.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "serve/http_server.h"
#include "serve/lifecycle.h"
#include "store/tables.h"
#include "ui/dashboard.h"

namespace loadcast::app {

int run_ui(int argc, char** argv) {
  CLI::App cli(
      wrap_help("Serves the run dashboard (docs/dashboard.md) in the browser: the runs of the "
                "workspace's history (filter by command and status), each run's parameters, "
                "metrics, artifacts, error, confusion matrix and feature importances, runs "
                "side by side with a metric charted across them, the model registry, and with "
                "--model and --stores the fleet's next 48 hours and each server's load "
                "history. Pages are drawn on the server and load nothing from the network. "
                "Read-only unless --allow-writes, and then promoting a version needs a "
                "service key.",
                90),
      "loadcast ui");
  ui::DashboardOptions options;
  std::string workspace = ".loadcast";
  std::string model_ref;
  std::string stores;
  std::string keys_file;
  serve::HttpOptions http;
  http.port = 8090;
  http.access_log = false;
  add_workspace_option(cli, workspace);
  cli.add_option("--host", http.host, "address to listen on")->capture_default_str();
  cli.add_option("--port", http.port, "port to listen on; 0 picks a free one (printed on stdout)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cli.add_option(
      "--model", model_ref,
      "model bundle directory, NAME@VERSION / NAME@STAGE or a blob output's URL, for the "
      "fleet pages");
  cli.add_option("--stores", stores,
                 "ETL output folder holding hourly/ and daily/ or a blob output's URL, for the "
                 "fleet pages");
  cli.add_option("--threads", options.threads, "threads for the fleet's forecast and the pages")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cli.add_flag("--allow-writes", options.allow_writes,
               "let the registry page promote versions (each promotion needs a service key)");
  cli.add_option(
      "--keys-file", keys_file,
      "service keys for promoting (\"primary,secondary\"); default: LOADCAST_SERVICE_KEYS");
  bool access_log = false;
  cli.add_flag("--access-log", access_log, "write one access-log line per request on stderr");
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  if (model_ref.empty() != stores.empty())
    fail_usage("--model and --stores go together: the fleet pages need both");
  http.threads = options.threads;
  http.access_log = access_log;

  options.workspace = workspace;
  if (options.allow_writes)
    options.keys = service_keys(keys_file, "or leave out --allow-writes (read-only)");
  if (!model_ref.empty()) {
    options.model = load_model_reference(workspace, model_ref);
    options.stores = read_stores_at(stores, options.model->model.schema());
  }
  serve::block_service_signals();
  ui::Dashboard dashboard(std::move(options));
  serve::HttpServer server(dashboard, http);
  const int port = server.bind();
  std::printf("loadcast ui: http://%s:%d/ (workspace %s)\n", http.host.c_str(), port,
              workspace.c_str());
  std::fflush(stdout);
  serve::serve_until_stopped(server, "loadcast ui");
  std::fprintf(stderr, "loadcast ui: stopped\n");
  return 0;
}

}  // namespace loadcast::app
