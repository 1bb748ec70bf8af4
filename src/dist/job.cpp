#include "dist/job.h"

#include <csignal>
#include <cstdlib>
#include <exception>
#include <thread>

#include "common/faults.h"

namespace loadcast::dist {

void abort_job(Communicator& comm, const std::string& message, ExitCode code) {
  comm.abort(message, static_cast<int>(code));
  std::terminate();  // not reached; [[noreturn]] on a virtual call is not seen by the compiler
}

nlohmann::json decide_on_root(Communicator& comm, const std::function<nlohmann::json()>& decide) {
  if (comm.size() == 1) return decide();
  nlohmann::json message;
  if (comm.rank() == 0) {
    try {
      message = {{"ok", decide()}};
    } catch (const Failure& failure) {
      message = {{"error", failure.what()}, {"code", static_cast<int>(failure.code())}};
    }
  }
  const std::string text = message.dump();
  const Bytes got = comm.broadcast(Bytes(text.begin(), text.end()), 0);
  message = nlohmann::json::parse(got.begin(), got.end());
  if (message.contains("error"))
    throw CollectiveFailure(static_cast<ExitCode>(message["code"].get<int>()),
                            message["error"].get<std::string>());
  return message["ok"];
}

int default_threads() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int ranks_here = local ? std::max(1, std::atoi(local)) : 1;
  return std::max(1, cores / ranks_here);
}

void fault_point(const Communicator& comm, std::string_view step) {
  if (fault_at("rank", step, comm.rank()) != Fault::kNone)
    fail_internal("injected failure at '" + std::string(step) + "'");
}

}  // namespace loadcast::dist
