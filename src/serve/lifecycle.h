// How `loadcast serve` lives as a process: the signals it takes (SIGHUP
// reloads the bundle, SIGTERM and SIGINT drain and stop) and the thread that
// runs the transport while the calling thread waits for them.
#pragma once

#include "serve/http_server.h"
#include "serve/service.h"

namespace loadcast::serve {

// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread, so that every
// thread started after it inherits the mask and only sigwait takes them.
// REQUIRES: called before the process starts any other thread.
void block_service_signals();

// Runs server.serve() (after bind()) and takes the signals until SIGTERM or
// SIGINT: SIGHUP reloads the bundle (a failed reload keeps the current one),
// each said on stderr. Returns once in-flight requests have been answered.
// REQUIRES: block_service_signals() was called.
void serve_until_stopped(HttpServer& server, ScoringService& scoring);

}  // namespace loadcast::serve
