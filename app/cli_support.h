// What every subcommand does around its own work: parse the command line
// (help exits 0, a usage error exits 2), declare --workspace, load the
// configuration (warning once per unknown field) and record the run.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "config/config.h"
#include "track/recorder.h"

namespace loadcast::app {

// nullopt when parsing succeeded; otherwise the exit code to return.
inline std::optional<int> parse_command_line(CLI::App& cli, int argc, char** argv) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  return std::nullopt;
}

// --workspace, declared here only so every subcommand has the same one.
inline CLI::Option* add_workspace_option(CLI::App& cli, std::string& workspace,
                                         const char* note = nullptr) {
  workspace = ".loadcast";
  std::string help = "run history, model registry and targets.json folder";
  if (note) help += std::string(" (") + note + ")";
  return cli.add_option("--workspace", workspace, help)->type_name("DIR")->capture_default_str();
}

// Runs `body` (returning an exit code) as the recorded run: finished on 0,
// failed with the message of an exception, which is then rethrown.
template <class Body>
int run_recorded(track::RunRecorder& run, Body&& body) {
  try {
    const int code = body();
    if (code == 0) {
      run.finish();
    } else {
      run.fail("exit code " + std::to_string(code));
    }
    return code;
  } catch (const std::exception& e) {
    run.fail(e.what());
    throw;
  }
}

// The command line after the subcommand name, as recorded in the run.
inline std::vector<std::string> recorded_arguments(int argc, char** argv) {
  return std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc);
}

inline Config load_config_for(const std::string& command, const std::string& path) {
  Config config = load_config(path);
  for (const auto& field : config.warnings)
    std::fprintf(stderr, "loadcast %s: warning: %s: unknown field '%s' ignored\n", command.c_str(),
                 path.c_str(), field.c_str());
  return config;
}

}  // namespace loadcast::app
