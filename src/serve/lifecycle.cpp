#include "serve/lifecycle.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace loadcast::serve {

namespace {

sigset_t service_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

void block_service_signals() {
  const sigset_t signals = service_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void reload_and_report(ScoringService& scoring, const std::function<void()>& fetch) {
  std::string problem;
  try {
    if (fetch) fetch();
  } catch (const std::exception& e) {
    problem = e.what();
  }
  if (problem.empty()) problem = scoring.reload();
  const auto model = scoring.model();
  if (problem.empty()) {
    std::fprintf(stderr, "loadcast serve: reloaded %s (version %s)\n", model->path.string().c_str(),
                 model->version.c_str());
  } else {
    std::fprintf(stderr, "loadcast serve: reload failed, keeping version %s: %s\n",
                 model->version.c_str(), problem.c_str());
  }
}

void serve_until_stopped(HttpServer& server, std::string_view program,
                         const std::function<void()>& on_hangup) {
  const sigset_t signals = service_signals();
  std::thread transport([&] {
    server.serve();
    // Ending by itself (not through stop()) must still wake the signal loop.
    kill(getpid(), SIGTERM);
  });
  // stop() is a no-op until the accept loop runs; wait for it so an early
  // SIGTERM is not lost.
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (on_hangup) on_hangup();
      continue;
    }
    std::fprintf(stderr, "%.*s: %s, draining\n", static_cast<int>(program.size()), program.data(),
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
    break;
  }
  transport.join();
}

}  // namespace loadcast::serve
