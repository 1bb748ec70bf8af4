// What every subcommand does around its own work: parse the command line
// (help exits 0, a usage error exits 2) and load the configuration, warning
// once per unknown field.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "common/error.h"
#include "config/config.h"

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

inline Config load_config_for(const std::string& command, const std::string& path) {
  Config config = load_config(path);
  for (const auto& field : config.warnings)
    std::fprintf(stderr, "loadcast %s: warning: %s: unknown field '%s' ignored\n", command.c_str(),
                 path.c_str(), field.c_str());
  return config;
}

}  // namespace loadcast::app
