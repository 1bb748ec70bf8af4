// Compute targets of docs/operations.md: named places to run a command, read from
// <workspace>/targets.json ("local": this machine with N threads; "mpi":
// mpirun -np N over a hostfile), and the launcher that runs a loadcast
// command there unchanged. A target "local" exists even without the file.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace loadcast::track {

struct ComputeTarget {
  std::string name;
  std::string kind = "local";  // local or mpi
  int threads = 0;       // local: --threads given to the command (0: all cores); mpi: only when > 0
  int np = 1;            // mpi: number of ranks
  std::string hostfile;  // mpi: optional; relative to the workspace
  std::string mpirun = "mpirun";
  std::vector<std::string> args;  // mpi: extra mpirun arguments
};

inline constexpr const char* kTargetsFile = "targets.json";

// The targets of <workspace>/targets.json plus the default "local". Throws
// Failure(kUsage) naming the file and field when it is malformed.
std::map<std::string, ComputeTarget> load_targets(const std::filesystem::path& workspace);

// The full command line (program first) that runs `command` (a subcommand and
// its arguments) on `target`: `self` re-executed with --threads and
// --workspace added unless given, under mpirun for an mpi target.
std::vector<std::string> target_command_line(const ComputeTarget& target, const std::string& self,
                                             const std::vector<std::string>& command,
                                             const std::filesystem::path& workspace);

// Runs the command on the target with LOADCAST_TARGET=<name> in its
// environment, waits, and returns its exit code (128 + signal when killed).
// Throws Failure(kUsage) when mpirun is missing.
int run_on_target(const ComputeTarget& target, const std::vector<std::string>& command,
                  const std::filesystem::path& workspace);

}  // namespace loadcast::track
