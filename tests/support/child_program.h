// A loadcast server program (`serve`, `ui`) started as a child process on a
// free port: its first stdout line names the address it listens on. Killed
// when the test ends, and when the test process dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace loadcast::testing {

class ChildProgram {
 public:
  // Runs `loadcast ARGS` (pass `--port 0`) with stderr to `log`, and waits
  // for the line with `http://HOST:PORT`; port() is 0 when none came.
  ChildProgram(const std::vector<std::string>& args, const std::filesystem::path& log);
  ~ChildProgram();
  ChildProgram(const ChildProgram&) = delete;
  ChildProgram& operator=(const ChildProgram&) = delete;

  int port() const { return port_; }
  const std::string& first_line() const { return line_; }
  void signal(int sig) const;
  // The exit code, or -1 when it did not exit by itself within `seconds`.
  int wait_exit(int seconds);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  std::string line_;
};

}  // namespace loadcast::testing
