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

int write_generated_case(const std::filesystem::path& dir, const std::string& generate_options,
                         const std::string& extra_fields, std::string* output) {
  const std::filesystem::path data = dir / "data";
  const int status = run_shell(
      std::string(LOADCAST_BINARY) + " generate --out " + data.string() + " " + generate_options,
      output);
  nlohmann::json config = nlohmann::json::parse("{" + extra_fields + "}");
  config["storageAccount"] = "a";
  config["storageKey"] = "";
  config["storageContainer"] = "c";
  config["dataFile"] = (data / "2016/06/*/*/request.csv").string();
  config["duration"] = "ONE_MONTH";
  std::FILE* out = std::fopen((dir / "config.json").c_str(), "w");
  if (out) {
    const std::string text = config.dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), out);
    std::fclose(out);
  }
  return status;
}

nlohmann::json recorded_runs(const std::filesystem::path& workspace) {
  std::string listed;
  run_shell(std::string(LOADCAST_BINARY) + " runs list --format json --workspace " +
                workspace.string() + " 2>/dev/null",
            &listed);
  return nlohmann::json::parse(listed);
}

}  // namespace loadcast::testing
