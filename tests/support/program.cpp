#include "support/program.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace loadcast::testing {

int run_shell(const std::string& command, std::string* output) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    if (output) output->append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ProgramOutcome run_program(const std::string& args, const std::string& env) {
  ProgramOutcome out;
  out.exit_code = run_shell(env + " " + std::string(LOADCAST_BINARY) + " " + args, &out.output);
  return out;
}

nlohmann::json recorded_runs(const std::filesystem::path& workspace) {
  std::string listed;
  run_shell(std::string(LOADCAST_BINARY) + " runs list --format json --workspace " +
                workspace.string() + " 2>/dev/null",
            &listed);
  return nlohmann::json::parse(listed);
}

}  // namespace loadcast::testing
