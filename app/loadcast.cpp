// The loadcast program: dispatches to a subcommand and is the one place where
// failures become a message on stderr and an exit code (docs/errors.md).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "common/error.h"
#include "ingest/line_parser.h"

namespace {

struct Subcommand {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Subcommand kSubcommands[] = {
    {"generate", loadcast::app::run_generate, "write realistic session logs (files or stdout)"},
    {"etl", loadcast::app::run_etl, "raw session CSV -> feature table, hourly/daily stores"},
    {"train", loadcast::app::run_train,
     "fit encoders and a random forest or boosted trees; write the model bundle"},
    {"tune", loadcast::app::run_tune,
     "cross-validate by time, search the tuning space, refit the best into the bundle"},
    {"serve", loadcast::app::run_serve, "REST scoring service for a model bundle (and the stores)"},
    {"score", loadcast::app::run_score,
     "forecast one server's next hours through the scoring service"},
    {"forecast", loadcast::app::run_forecast,
     "the next hours of the whole fleet from the stores: idle and hot servers"},
    {"runs", loadcast::app::run_runs, "run history: list, show ID, compare ID ID"},
    {"models", loadcast::app::run_models, "model registry: register, list, show, promote"},
    {"submit", loadcast::app::run_submit, "run a command on a compute target of targets.json"},
    {"ui", loadcast::app::run_ui,
     "the run dashboard in the browser: runs, metrics, registry, fleet forecast"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "loadcast %s: forecast server load (low/medium/high) from session logs\n\n"
               "usage: loadcast <command> [options]   (loadcast <command> --help for details)\n\n"
               "commands:\n",
               LOADCAST_VERSION);
  for (const auto& sub : kSubcommands) std::fprintf(out, "  %-10s %s\n", sub.name, sub.summary);
}

}  // namespace

namespace loadcast::app {

int run_program(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return static_cast<int>(loadcast::ExitCode::kUsage);
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  if (name == "--version") {
    std::printf("loadcast %s\n", LOADCAST_VERSION);
    return 0;
  }
  if (const std::string missing = loadcast::missing_cpu_features(); !missing.empty()) {
    std::fprintf(stderr,
                 "loadcast: this CPU lacks %s, which this build of loadcast needs (x86-64-v2)\n",
                 missing.c_str());
    return static_cast<int>(loadcast::ExitCode::kInternal);
  }
  for (const auto& sub : kSubcommands) {
    if (name != sub.name) continue;
    std::string program = std::string("loadcast ") + sub.name;
    std::vector<char*> args(argv + 1, argv + argc);
    args[0] = program.data();
    try {
      return sub.run(static_cast<int>(args.size()), args.data());
    } catch (const loadcast::Failure& failure) {
      std::fprintf(stderr, "loadcast %s: error: %s\n", sub.name, failure.what());
      return static_cast<int>(failure.code());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "loadcast %s: internal error: %s\n", sub.name, e.what());
      return static_cast<int>(loadcast::ExitCode::kInternal);
    }
  }
  std::fprintf(stderr, "loadcast: unknown command '%s' (try 'loadcast --help')\n", name.c_str());
  return static_cast<int>(loadcast::ExitCode::kUsage);
}

}  // namespace loadcast::app
