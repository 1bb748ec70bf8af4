// The HTTP transport of the scoring service: cpp-httplib's threaded server
// in front of ScoringService, with the body limit, read timeout, one access
// log line per request on stderr, request metrics and a draining stop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "serve/access_log.h"
#include "serve/service.h"

namespace httplib {
class Server;
}

namespace loadcast::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 2;  // worker threads; a keep-alive connection holds one while open
  int read_timeout_seconds = 5;
  int keep_alive_seconds = 2;  // idle keep-alive connections also delay a stop by at most this
  bool access_log = true;
};

class HttpServer {
 public:
  HttpServer(ScoringService& service, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket and returns the port. Throws Failure(kInternal) when
  // the address cannot be bound.
  int bind();
  // Serves until stop(); returns once in-flight requests have been answered.
  // Call after bind(), typically on its own thread.
  void serve();
  // Stops accepting; requests being handled finish. Safe from any thread.
  void stop();
  bool is_running() const;
  int port() const { return port_; }

 private:
  ScoringService& service_;
  HttpOptions options_;
  std::unique_ptr<AccessLog> access_log_;  // null without options.access_log; outlives server_
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace loadcast::serve
