// loadcast_with_faults: the loadcast program with failure points installed
// from its environment, for tests of jobs that fail part way (a rank that
// dies or fails at a named step, a disk that fills up, a short write):
//   LOADCAST_FAIL_POINT  rank (default), write, commit or upload (common/faults.h)
//   LOADCAST_FAIL_AT     the step ("shuffle", "write", "train-forest") or the
//                        end of the target's path; default: the first reached
//   LOADCAST_FAIL_RANK   the rank that fails (default 0)
//   LOADCAST_FAIL_HOW    error (default), kill, nospace or short
#include <cstdlib>
#include <string>
#include <string_view>

#include "commands.h"
#include "common/faults.h"

namespace {

std::string env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

class EnvFaults : public loadcast::FaultPoints {
 public:
  EnvFaults()
      : point_(env("LOADCAST_FAIL_POINT", "rank")),
        at_(env("LOADCAST_FAIL_AT", "")),
        rank_(std::atoi(env("LOADCAST_FAIL_RANK", "0").c_str())),
        how_(env("LOADCAST_FAIL_HOW", "error")) {}

  loadcast::Fault at(std::string_view point, std::string_view target, int rank) override {
    if (point != point_ || rank != rank_ || !target.ends_with(at_)) return loadcast::Fault::kNone;
    if (how_ == "kill") return loadcast::Fault::kKill;
    if (how_ == "nospace") return loadcast::Fault::kNoSpace;
    if (how_ == "short") return loadcast::Fault::kShortWrite;
    return loadcast::Fault::kError;
  }

 private:
  std::string point_, at_;
  int rank_;
  std::string how_;
};

}  // namespace

int main(int argc, char** argv) {
  static EnvFaults faults;
  if (std::getenv("LOADCAST_FAIL_POINT") || std::getenv("LOADCAST_FAIL_RANK") ||
      std::getenv("LOADCAST_FAIL_AT"))
    loadcast::install_fault_points(&faults);
  return loadcast::app::run_program(argc, argv);
}
