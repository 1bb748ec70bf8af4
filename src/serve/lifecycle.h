// How `loadcast serve` and `loadcast ui` live as processes: the signals they
// take (SIGHUP reloads serve's bundle, SIGTERM and SIGINT drain and stop)
// and the thread that runs the transport while the calling thread waits for
// them.
#pragma once

#include <functional>
#include <string_view>

#include "serve/http_server.h"
#include "serve/service.h"

namespace loadcast::serve {

// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread, so that every
// thread started after it inherits the mask and only sigwait takes them.
// REQUIRES: called before the process starts any other thread.
void block_service_signals();

// Runs server.serve() (after bind()) and takes the signals until SIGTERM or
// SIGINT (said on stderr as `program: SIGTERM, draining`): SIGHUP calls
// `on_hangup`, or is ignored without one. Returns once in-flight requests
// have been answered.
// REQUIRES: block_service_signals() was called.
void serve_until_stopped(HttpServer& server, std::string_view program,
                         const std::function<void()>& on_hangup = {});

// serve's SIGHUP: runs `fetch` (when given: brings a fresh copy of a remote
// bundle), reloads the bundle (a failed fetch or reload keeps the current
// one) and says which on stderr.
void reload_and_report(ScoringService& scoring, const std::function<void()>& fetch = {});

}  // namespace loadcast::serve
