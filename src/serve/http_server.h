// The HTTP/1.1 transport of the scoring service and the dashboard:
// Boost.Beast on Asio, one event loop per worker thread, in front of an
// HttpHandler. It owns the body
// limit (413), read and keep-alive timeouts, `Expect: 100-continue`, one
// access log line per request on stderr, the request metrics and a draining
// stop. Keep-alive connections are spread over the workers; a worker serves
// any number of them, so clients may hold more connections than there are
// threads.
#pragma once

#include <memory>
#include <string>

#include "serve/access_log.h"
#include "serve/handler.h"

namespace loadcast::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port
  int threads = 2;               // worker threads, each with its own event loop
  int read_timeout_seconds = 5;  // for the rest of a request once it has begun
  int keep_alive_seconds = 5;    // an idle keep-alive connection is closed after this
  bool access_log = true;
};

class HttpServer {
 public:
  HttpServer(HttpHandler& handler, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and returns the port. Throws Failure(kInternal) when
  // the address cannot be bound.
  int bind();
  // Serves until stop(); returns once in-flight requests have been answered.
  // Call after bind(), typically on its own thread.
  void serve();
  // Stops accepting and closes idle connections; requests being read or
  // handled finish (within the read timeout). Safe from any thread, also
  // before serve() has started.
  void stop();
  // True from the start of serve() until it is about to return.
  bool is_running() const;
  int port() const { return port_; }

  struct Impl;  // the event loops and connections, in http_server.cpp

 private:
  HttpHandler& handler_;
  HttpOptions options_;
  std::unique_ptr<AccessLog> access_log_;  // null without options.access_log; outlives impl_
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace loadcast::serve
