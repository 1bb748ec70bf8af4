// Running the loadcast program (or any shell command) from tests and reading
// what it recorded.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace loadcast::testing {

// Runs a shell command with stdout and stderr in `output`; returns its exit
// status (-1 when it did not exit normally).
int run_shell(const std::string& command, std::string* output = nullptr);

struct ProgramOutcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `loadcast ARGS` through the shell; `env` is prefixed as VAR=value pairs.
ProgramOutcome run_program(const std::string& args, const std::string& env = "");

// Generates sessions into `dir`/data (`loadcast generate --out ... OPTIONS`)
// and writes `dir`/config.json reading them with the ONE_MONTH preset plus
// `extra_fields` (JSON members, e.g. `"filterIPs": ["1.2.3.4"]`). Returns
// the generator's exit code; `output` receives what it printed.
int write_generated_case(const std::filesystem::path& dir, const std::string& generate_options,
                         const std::string& extra_fields, std::string* output = nullptr);

// `loadcast runs list --format json` of a workspace.
nlohmann::json recorded_runs(const std::filesystem::path& workspace);

}  // namespace loadcast::testing
