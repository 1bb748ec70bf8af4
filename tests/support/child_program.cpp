#include "support/child_program.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace loadcast::testing {

ChildProgram::ChildProgram(const std::vector<std::string>& args, const std::filesystem::path& log) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> argv_text = {LOADCAST_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], STDOUT_FILENO);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    execv(LOADCAST_BINARY, argv.data());
    _exit(127);
  }
  close(out[1]);
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line_ += ch;
  close(out[0]);
  const size_t scheme = line_.find("http://");
  if (scheme == std::string::npos) return;
  const size_t colon = line_.find(':', scheme + 7);
  if (colon != std::string::npos) port_ = std::atoi(line_.c_str() + colon + 1);
}

ChildProgram::~ChildProgram() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void ChildProgram::signal(int sig) const { kill(pid_, sig); }

int ChildProgram::wait_exit(int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    usleep(10000);
  }
  return -1;
}

}  // namespace loadcast::testing
