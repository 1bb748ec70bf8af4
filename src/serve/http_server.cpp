#include "serve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace loadcast::serve {
namespace {

// What the handler learnt about the request its thread is answering; httplib
// answers a request on one thread from reading to logging, and the logger
// has no other way to see it.
struct RequestTrace {
  bool handled = false;
  double seconds = 0;
  int64_t records = 0;
};
thread_local RequestTrace t_trace;

std::string json_text(std::string_view s) {
  return nlohmann::json(s.substr(0, 200)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return text;
}

// A header's value without a copy; "" when absent.
std::string_view header_of(const httplib::Request& req, const char* name) {
  const auto [first, last] = req.headers.equal_range(name);  // the first, as get_header_value
  return first == last ? std::string_view() : std::string_view(first->second);
}

const char* status_reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 413: return "request body over the limit";
    case 414: return "request URI too long";
    case 416: return "range not satisfiable";
    case 431: return "request headers too large";
    default: return status < 500 ? "bad request" : "internal error";
  }
}

}  // namespace

HttpServer::HttpServer(ScoringService& service, HttpOptions options)
    : service_(service), options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {
  httplib::Server& s = *server_;
  const size_t threads = static_cast<size_t>(std::max(1, options_.threads));
  // httplib takes ownership of the queue and deletes it when listening ends.
  s.new_task_queue = [threads] { return std::make_unique<httplib::ThreadPool>(threads).release(); };
  s.set_payload_max_length(service_.options().max_body_bytes);
  s.set_read_timeout(options_.read_timeout_seconds, 0);
  s.set_write_timeout(options_.read_timeout_seconds, 0);
  s.set_keep_alive_timeout(options_.keep_alive_seconds);
  // Answers are written in pieces; without this Nagle's algorithm meets the
  // client's delayed ACK and keep-alive requests wait 40 ms each.
  s.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default; the
  // reconnects then dominate small requests. Connections beyond the thread
  // count still get a turn when one of these ends or idles out.
  s.set_keep_alive_max_count(1000);
  if (options_.access_log) access_log_ = std::make_unique<AccessLog>();

  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    HttpRequest request;
    request.method = req.method;
    request.path = req.path;
    request.content_type = header_of(req, "Content-Type");
    request.authorization = header_of(req, "Authorization");
    request.body = req.body;
    HttpResponse response = service_.handle(request);
    res.status = response.status;
    for (auto& [name, value] : response.headers) res.set_header(name, value);
    res.set_content(std::move(response.body), response.content_type.c_str());
    t_trace.handled = true;
    t_trace.records = response.records;
    t_trace.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Patch(".*", handler);
  s.Delete(".*", handler);
  s.Options(".*", handler);

  // Statuses httplib answers by itself (413 over the limit, 400 for a bad
  // request line, ...) get the same JSON error shape as the service's.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) -> httplib::Server::HandlerResponse {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    res.set_content(error_body(status_reason(res.status)), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body("internal error"), "application/json");
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const RequestTrace trace = t_trace;
    t_trace = RequestTrace{};
    service_.metrics().record_request(req.path, res.status, trace.seconds);
    if (!access_log_) return;
    char tail[128];
    std::snprintf(tail, sizeof tail, ",\"status\":%d,\"ms\":%.3f,\"records\":%lld}\n", res.status,
                  trace.seconds * 1000, static_cast<long long>(trace.records));
    const std::string line = "{\"time\":\"" + utc_now() + "\",\"method\":" + json_text(req.method) +
                             ",\"path\":" + json_text(req.path) + ",\"remote\":" + json_text(req.remote_addr) + tail;
    access_log_->append(line);
  });
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  httplib::Server& s = *server_;
  if (options_.port == 0) {
    port_ = s.bind_to_any_port(options_.host);
  } else {
    port_ = s.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    fail_internal("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                  " (address in use or not local?)");
  }
  return port_;
}

void HttpServer::serve() { server_->listen_after_bind(); }

void HttpServer::stop() { server_->stop(); }

bool HttpServer::is_running() const { return server_->is_running(); }

}  // namespace loadcast::serve
