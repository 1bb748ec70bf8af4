#include "track/targets.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"

namespace loadcast::track {

namespace fs = std::filesystem;

namespace {

int read_count(const nlohmann::json& spec, const char* field, const std::string& where,
               int fallback, int min) {
  if (!spec.contains(field)) return fallback;
  const auto& v = spec[field];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > 100000)
    fail_usage(where + "." + field + " must be an integer >= " + std::to_string(min));
  return v.get<int>();
}

std::string read_text(const nlohmann::json& spec, const char* field, const std::string& where,
                      const std::string& fallback) {
  if (!spec.contains(field)) return fallback;
  if (!spec[field].is_string() || spec[field].get<std::string>().empty())
    fail_usage(where + "." + field + " must be a non-empty string");
  return spec[field].get<std::string>();
}

bool has_option(const std::vector<std::string>& args, const std::string& option) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a == option || a.starts_with(option + "=");
  });
}

// The absolute path of a program: as given when it holds a '/', else the
// first executable match on PATH; "" when there is none.
std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return {};
}

std::string self_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail_internal("cannot find this program's path (/proc/self/exe): " + ec.message());
  return self.string();
}

}  // namespace

std::map<std::string, ComputeTarget> load_targets(const fs::path& workspace) {
  std::map<std::string, ComputeTarget> targets;
  ComputeTarget local;
  local.name = "local";
  targets["local"] = local;
  const fs::path file = workspace / kTargetsFile;
  if (!fs::exists(file)) return targets;
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_usage("cannot read " + file.string());
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) fail_usage(file.string() + " is not valid JSON");
  if (!json.is_object()) fail_usage(file.string() + " must hold an object of named targets");
  for (const auto& [name, spec] : json.items()) {
    const std::string where = file.string() + ": " + name;
    if (!spec.is_object()) fail_usage(where + " must be an object with a \"kind\"");
    ComputeTarget t;
    t.name = name;
    t.kind = read_text(spec, "kind", where, "");
    if (t.kind == "local") {
      t.threads = read_count(spec, "threads", where, 0, 1);
    } else if (t.kind == "mpi") {
      if (!spec.contains("np")) fail_usage(where + ".np is required for an mpi target");
      t.np = read_count(spec, "np", where, 1, 1);
      t.threads = read_count(spec, "threads", where, 0, 1);
      t.hostfile = read_text(spec, "hostfile", where, "");
      t.mpirun = read_text(spec, "mpirun", where, "mpirun");
      if (spec.contains("args")) {
        if (!spec["args"].is_array()) fail_usage(where + ".args must be an array of strings");
        for (const auto& a : spec["args"]) {
          if (!a.is_string()) fail_usage(where + ".args must be an array of strings");
          t.args.push_back(a.get<std::string>());
        }
      }
    } else {
      fail_usage(where + ".kind must be \"local\" or \"mpi\"");
    }
    targets[name] = t;
  }
  return targets;
}

std::vector<std::string> target_command_line(const ComputeTarget& target, const std::string& self,
                                             const std::vector<std::string>& command,
                                             const fs::path& workspace) {
  std::vector<std::string> line;
  if (target.kind == "mpi") {
    line = {target.mpirun, "-np", std::to_string(target.np)};
    if (!target.hostfile.empty()) {
      const fs::path hostfile = fs::path(target.hostfile).is_absolute()
                                    ? fs::path(target.hostfile)
                                    : workspace / target.hostfile;
      line.insert(line.end(), {"--hostfile", hostfile.string()});
    }
    line.insert(line.end(), target.args.begin(), target.args.end());
  }
  line.push_back(self);
  line.insert(line.end(), command.begin(), command.end());
  const int threads = target.kind == "local" && target.threads == 0
                          ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                          : target.threads;
  // The target's threads go to the commands whose --threads are worker threads.
  const bool takes_threads = !command.empty() && (command[0] == "etl" || command[0] == "train" ||
                                                  command[0] == "generate");
  if (threads > 0 && takes_threads && !has_option(command, "--threads"))
    line.insert(line.end(), {"--threads", std::to_string(threads)});
  if (!has_option(command, "--workspace"))
    line.insert(line.end(), {"--workspace", workspace.string()});
  return line;
}

int run_on_target(const ComputeTarget& target, const std::vector<std::string>& command,
                  const fs::path& workspace) {
  std::vector<std::string> line = target_command_line(target, self_path(), command, workspace);
  if (target.kind == "mpi") {
    const std::string mpirun = find_program(target.mpirun);
    if (mpirun.empty())
      fail_usage("target '" + target.name + "': '" + target.mpirun +
                 "' not found (install openmpi-bin, or set \"mpirun\" in " +
                 (workspace / kTargetsFile).string() + ")");
    line[0] = mpirun;
  }
  std::vector<char*> argv;
  argv.reserve(line.size() + 1);
  for (auto& arg : line) argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) fail_internal(std::string("cannot start a process: ") + std::strerror(errno));
  if (pid == 0) {
    setenv("LOADCAST_TARGET", target.name.c_str(), 1);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "loadcast submit: error: cannot run %s: %s\n", argv[0],
                 std::strerror(errno));
    _exit(127);
  }
  // The child takes the terminal's Ctrl-C itself; wait for it to end.
  signal(SIGINT, SIG_IGN);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  signal(SIGINT, SIG_DFL);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

}  // namespace loadcast::track
