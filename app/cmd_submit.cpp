// `loadcast submit --target NAME -- SUBCOMMAND ARGS...`: runs a loadcast
// command unchanged on a compute target of <workspace>/targets.json.
#include <CLI/CLI.hpp>
#include <cstring>

#include "cli_support.h"
#include "commands.h"
#include "common/error.h"
#include "track/targets.h"

namespace loadcast::app {

int run_submit(int argc, char** argv) {
  CLI::App cli(
      "Runs a loadcast command on a compute target named in <workspace>/targets.json, e.g. "
      "{\"local\": {\"kind\": \"local\", \"threads\": 2}, \"cluster\": {\"kind\": \"mpi\", \"np\": "
      "4, "
      "\"hostfile\": \"hosts\", \"mpirun\": \"mpirun\", \"args\": [\"--oversubscribe\"]}}. A local "
      "target "
      "re-runs this program with --threads N; an mpi target runs 'mpirun -np N [--hostfile H] ARGS "
      "loadcast SUBCOMMAND ...'. The command gets --workspace (this one) unless it has its own, "
      "and "
      "LOADCAST_TARGET=NAME, so its run records the target. The target 'local' (all cores) exists "
      "without a file. The exit code is the command's.",
      "loadcast submit");
  cli.footer("example: loadcast submit --target cluster -- etl storageconfig.json");
  std::string workspace;
  std::string target_name = "local";
  add_workspace_option(cli, workspace);
  cli.add_option("--target", target_name, "target name in targets.json")->capture_default_str();

  // Everything after "--" is the command, left exactly as written.
  int split = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      split = i;
      break;
    }
  }
  if (const auto code = parse_command_line(cli, split, argv)) return *code;
  const std::vector<std::string> command(argv + std::min(split + 1, argc), argv + argc);
  if (command.empty())
    fail_usage(
        "no command to submit: write it after '--', e.g. 'submit --target local -- etl CONFIG'");
  if (command[0] == "submit") fail_usage("a submitted command cannot be 'submit' itself");
  if (command[0].starts_with("-"))
    fail_usage("the command after '--' must start with a subcommand, not '" + command[0] + "'");

  const auto targets = track::load_targets(workspace);
  const auto target = targets.find(target_name);
  if (target == targets.end()) {
    std::string known;
    for (const auto& [name, t] : targets) known += (known.empty() ? "" : ", ") + name;
    fail_usage("unknown target '" + target_name + "' (known: " + known + "; define targets in " +
               (std::filesystem::path(workspace) / track::kTargetsFile).string() + ")");
  }
  return track::run_on_target(target->second, command, workspace);
}

}  // namespace loadcast::app
