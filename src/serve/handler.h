// What the HTTP transport (serve/http_server) serves: a request as it was
// read, the answer to write, and the handler in between. The scoring service
// and the run dashboard are both handlers, behind the same transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loadcast::serve {

struct HttpRequest {
  std::string_view method;
  std::string_view path;  // percent-decoded, without the query
  std::string_view content_type;
  std::string_view authorization;
  std::string_view body;
  std::string_view query;  // after '?', as sent (not decoded)
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>>
      headers;          // extra headers (Allow, WWW-Authenticate)
  int64_t records = 0;  // rows scored, for the access log
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Answers one request; never throws. Bad input is a 4xx.
  virtual HttpResponse handle(const HttpRequest& request) = 0;
  // The largest request body the transport reads (413 above).
  virtual size_t max_body_bytes() const = 0;
  // One answered request, for the handler's metrics.
  virtual void record_request(std::string_view path, int status, double seconds) = 0;
};

}  // namespace loadcast::serve
