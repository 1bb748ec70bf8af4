// `loadcast serve`: the scoring service of docs/http-api.md. Loads the bundle (and the
// stores), serves until SIGTERM/SIGINT (draining in-flight requests) and
// reloads the bundle on SIGHUP.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "blob_places.h"
#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "serve/http_server.h"
#include "serve/lifecycle.h"
#include "serve/routes.h"
#include "serve/service.h"
#include "store/tables.h"
#include "track/registry.h"

namespace loadcast::app {

int run_serve(int argc, char** argv) {
  std::string endpoints;
  for (const serve::Route& r : serve::kRoutes)
    endpoints += "  " + std::string(r.method) + std::string(5 - r.method.size(), ' ') +
                 std::string(r.path) + std::string(14 - r.path.size(), ' ') +
                 std::string(r.summary) + (r.needs_key ? "" : " (no key)") + "\n";
  CLI::App cli(
      "Serves a model bundle over HTTP/1.1 (docs/http-api.md):\n" + endpoints +
          "Endpoints need 'Authorization: Bearer <key>' with the primary or secondary key\n"
          "unless --no-auth. SIGHUP reloads the bundle (a failed reload keeps the current one);\n"
          "SIGTERM stops accepting, answers the requests in flight and exits 0.\n",
      "loadcast serve");
  std::string model_ref;
  std::string stores;
  serve::HttpOptions http;
  std::string keys_file;
  bool no_auth = false;
  serve::ServiceOptions service;
  std::string workspace = ".loadcast";
  cli.add_option(
         "--model", model_ref,
         "model bundle directory (e.g. outputs/<container>/model), a registered NAME@VERSION / "
         "NAME@STAGE (e.g. fleet@production) from the workspace's registry, or a blob output's "
         "URL (fetched again on SIGHUP)")
      ->required();
  cli.add_option("--stores", stores,
                 "ETL output folder holding hourly/ and daily/, or a blob output's URL (enables "
                 "/v1/forecast)");
  cli.add_option("--host", http.host, "address to listen on")->capture_default_str();
  cli.add_option("--port", http.port, "port to listen on; 0 picks a free one (printed on stdout)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cli.add_option("--threads", http.threads,
                 "worker threads, each an event loop serving any number of keep-alive connections")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  auto* keys_opt =
      cli.add_option("--keys-file", keys_file,
                     "file with the primary and secondary key (\"primary,secondary\" or one per "
                     "line); default: LOADCAST_SERVICE_KEYS");
  cli.add_flag("--no-auth", no_auth,
               "serve without keys (scoring endpoints open to anyone who can connect)")
      ->excludes(keys_opt);
  cli.add_option("--max-body-bytes", service.max_body_bytes, "largest request body; 413 above")
      ->check(CLI::Range(size_t{1}, size_t{1} << 32))
      ->capture_default_str();
  cli.add_option("--max-records", service.max_records, "most records per request; 413 above")
      ->check(CLI::Range(size_t{1}, size_t{100000000}))
      ->capture_default_str();
  cli.add_option("--read-timeout", http.read_timeout_seconds,
                 "seconds to wait for the rest of a request once it has begun, and for the client "
                 "to take the answer")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cli.add_option("--keep-alive", http.keep_alive_seconds,
                 "seconds an idle keep-alive connection stays open")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  bool quiet = false;
  cli.add_flag("--no-access-log", quiet, "do not write one access-log line per request on stderr");
  add_workspace_option(cli, workspace);
  if (const auto code = parse_command_line(cli, argc, argv)) return *code;
  http.access_log = !quiet;

  // NAME@VERSION / NAME@STAGE: the registered bundle, once its content hash checks out.
  model_ref = model_bundle_path(workspace, model_ref);
  if (!no_auth) service.keys = service_keys(keys_file, "or run with --no-auth");
  service.require_auth = !no_auth;

  // Before any thread starts, so that every thread inherits the mask.
  serve::block_service_signals();
  // Blob URLs are served from local copies; SIGHUP fetches the bundle again.
  FetchedPlace model_place(model_ref, kModelPart, "--model");
  auto model = serve::load_model_bundle(model_place.path());
  std::vector<ServerHistory> histories;
  if (!stores.empty()) histories = read_stores_at(stores, model->model.schema());

  serve::ScoringService scoring(std::move(service), model, std::move(histories));
  serve::HttpServer server(scoring, http);
  const int port = server.bind();
  std::fprintf(stderr, "loadcast serve: model %s (version %s)%s\n",
               model_place.remote() ? model_ref.c_str() : model->path.string().c_str(),
               model->version.c_str(), stores.empty() ? "" : (", stores " + stores).c_str());
  std::printf("loadcast serve: listening on http://%s:%d\n", http.host.c_str(), port);
  std::fflush(stdout);

  serve::serve_until_stopped(server, "loadcast serve", [&] {
    serve::reload_and_report(scoring, [&] { model_place.refresh(); });
  });
  std::fprintf(stderr, "loadcast serve: stopped\n");
  return 0;
}

}  // namespace loadcast::app
