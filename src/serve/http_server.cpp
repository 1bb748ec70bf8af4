#include "serve/http_server.h"

// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/url.h"
#include "serve/service.h"  // error_body

namespace loadcast::serve {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Reads ask for this much at once: a typical scoring body (48 records, about
// 40 KB) arrives in one or two reads rather than in many small ones.
constexpr size_t kReadBuffer = 64u << 10;
// How often each worker closes connections past their deadline.
constexpr auto kSweepInterval = std::chrono::milliseconds(200);
// A body over the limit is still read (and dropped) up to this size, so that
// the client, still sending, sees the 413 rather than a reset connection.
constexpr uint64_t kMaxDrainBytes = 64u << 20;

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"` of now; the text up to the second is
// kept per thread, as requests mostly share it.
void append_utc_now(std::string& out) {
  struct Second {
    std::time_t t = -1;
    char text[64] = {};
  };
  thread_local Second second;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  if (t != second.t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(second.text, sizeof second.text, "%04d-%02d-%02dT%02d:%02d:%02d",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    second.t = t;
  }
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms));
  out += '"';
  out += second.text;
  out += millis;
  out += '"';
}

// The path of a request target: before any query, percent-decoded.
std::string path_of(std::string_view target) {
  return url_decode(target.substr(0, target.find('?')));
}

}  // namespace

class Session;

// One worker thread: its event loop, the connections it serves, and the
// timer that enforces their deadlines. Everything but `ioc` is touched on the
// worker's own thread only. Declared so that the loop goes before the
// session list (its pending handlers own sessions, which unlink themselves)
// and after the timer.
struct Worker {
  ~Worker() { destroying = true; }  // the loop's leftover handlers go with it, after the timer

  std::list<Session*> sessions;
  bool stopping = false;
  bool destroying = false;
  net::io_context ioc{1};
  net::steady_timer sweep{ioc};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard{
      net::make_work_guard(ioc)};
};

struct HttpServer::Impl {
  explicit Impl(HttpServer& server) : owner(server) {}

  const HttpOptions& options() const { return owner.options_; }
  HttpHandler& handler() const { return owner.handler_; }

  HttpServer& owner;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;   // on workers[0]
  std::optional<net::steady_timer> retry;  // after a failed accept (no descriptors left, ...)
  size_t next_worker = 0;
  std::atomic<bool> running{false};
  std::atomic<bool> stop_requested{false};
  std::mutex stop_mutex;  // orders stop() against serve()'s start

  void accept();
  void sweep(Worker& worker);
  void close_idle(Worker& worker);
  // The access log line and the metrics of one answered request.
  void record(std::string_view method, std::string_view path, std::string_view remote, int status,
              double seconds, int64_t records);
};

// One connection: read a request (header, then body), answer it, repeat
// while keep-alive. Lives on one worker's thread; its handlers never run
// concurrently.
class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  Session(HttpServer::Impl& server, Worker& worker, tcp::socket socket)
      : server_(server), worker_(worker), socket_(std::move(socket)) {
    buffer_.reserve(kReadBuffer);
    worker_.sessions.push_front(this);
    position_ = worker_.sessions.begin();
    beast::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() {
    worker_.sessions.erase(position_);
    if (worker_.stopping && !worker_.destroying && worker_.sessions.empty()) {
      try {
        worker_.sweep.cancel();  // may end the loop
      } catch (const std::exception&) {
        // a timer that cannot be cancelled still expires and ends the loop
      }
    }
  }

  void start() { read_header(); }

  State state() const { return state_; }
  Clock::time_point deadline() const { return deadline_; }
  // Idle and nothing of a next request received, not even by the kernel.
  bool quiet() {
    beast::error_code ec;
    return state_ == State::kIdle && buffer_.size() == 0 && socket_.available(ec) == 0 && !ec;
  }
  // Ends the connection; pending operations complete with an error.
  void close() {
    state_ = State::kClosed;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  const HttpOptions& options() const { return server_.options(); }
  size_t body_limit() const { return server_.handler().max_body_bytes(); }

  void read_header() {
    if (worker_.stopping && buffer_.size() == 0) return close();
    // Nothing received yet: an idle keep-alive connection.
    state_ = buffer_.size() == 0 ? State::kIdle : State::kReading;
    deadline_ = Clock::now() + std::chrono::seconds(state_ == State::kIdle
                                                        ? options().keep_alive_seconds
                                                        : options().read_timeout_seconds);
    method_.clear();
    path_.clear();
    parser_.emplace();
    parser_->header_limit(16u << 10);
    // No limit yet (Beast 1.74 compares a declared length against `none` as
    // over it): on_header decides, and sets the limit for the body.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    state_ = State::kReading;
    deadline_ = Clock::now() + std::chrono::seconds(options().read_timeout_seconds);
    if (ec) return fail(ec);
    const auto& req = parser_->get();
    method_ = std::string(view(req.method_string()));
    path_ = path_of(view(req.target()));
    const std::string_view target = view(req.target());
    const size_t question = target.find('?');
    query_ = question == std::string_view::npos ? std::string()
                                                : std::string(target.substr(question + 1));
    const auto length = parser_->content_length();
    const bool expects_continue =
        equals_ignoring_case(view(req[http::field::expect]), "100-continue");
    if (length && *length > body_limit()) {
      // The body is not read into memory; without `Expect: 100-continue`
      // the client sends it anyway, so it is drained first.
      const std::string message = "body of " + std::to_string(*length) +
                                  " bytes is over the limit of " + std::to_string(body_limit());
      if (expects_continue || *length > kMaxDrainBytes) return respond_error(413, message, true);
      drain_remaining_ = *length;
      drain_message_ = message;
      return drain();
    }
    parser_->body_limit(body_limit());  // a chunked body may still grow past it
    if (expects_continue && req.version() >= 11) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(socket_, net::buffer(kContinue),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->fail(ec);
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (state_ == State::kClosed) return;
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  // Drops drain_remaining_ body bytes, then answers 413 and closes.
  void drain() {
    const size_t buffered = std::min<uint64_t>(buffer_.size(), drain_remaining_);
    buffer_.consume(buffered);
    drain_remaining_ -= buffered;
    if (drain_remaining_ == 0) return respond_error(413, drain_message_, true);
    socket_.async_read_some(buffer_.prepare(kReadBuffer),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->fail(ec);
                              self->buffer_.commit(n);
                              self->drain();
                            });
  }

  void on_body(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) return fail(ec);
    state_ = State::kHandling;
    const auto start = Clock::now();
    auto& req = parser_->get();
    HttpRequest request;
    request.method = method_;
    request.path = path_;
    request.query = query_;
    request.content_type = view(req[http::field::content_type]);
    request.authorization = view(req[http::field::authorization]);
    request.body = req.body();
    HttpResponse response;
    try {
      response =
          server_.handler().handle(request);  // answers bad input itself, but memory may run out
    } catch (const std::exception&) {
      response = HttpResponse{};
      response.status = 500;
      response.body = error_body("internal error");
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const bool keep_alive = req.keep_alive() && !worker_.stopping;
    server_.record(method_, path_, remote_, response.status, seconds, response.records);

    res_ = {};
    res_.version(req.version());
    res_.result(static_cast<unsigned>(response.status));
    res_.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res_.set(name, value);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    if (req.method() == http::verb::head)
      res_.body().clear();  // Content-Length stays the GET body's
    write(!keep_alive);
  }

  // Answers an error of the transport (a bad request line, headers or body
  // over their limits) with the service's JSON error shape.
  void respond_error(int status, const std::string& message, bool close_after) {
    server_.record(method_, path_, remote_, status, 0, 0);
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    res_.set(http::field::content_type, "application/json");
    res_.body() = error_body(message);
    res_.keep_alive(!close_after);
    res_.prepare_payload();
    write(close_after);
  }

  void write(bool close_after) {
    state_ = State::kWriting;
    deadline_ = Clock::now() + std::chrono::seconds(options().read_timeout_seconds);
    http::async_write(socket_, res_,
                      [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (ec || close_after) return self->finish();
                        self->read_header();
                      });
  }

  // After the last answer: no more sends, the peer's remaining bytes are
  // dropped until it closes or the deadline passes (an immediate close with
  // unread data would reset the connection under the answer).
  void finish() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    state_ = State::kReading;
    deadline_ = Clock::now() + std::chrono::seconds(1);
    buffer_.consume(buffer_.size());
    socket_.async_read_some(buffer_.prepare(kReadBuffer),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->finish();
                            });
  }

  void fail(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return respond_error(413, "request body over the limit", true);
    if (ec == http::error::header_limit)
      return respond_error(431, "request headers too large", true);
    const bool parse_error =
        ec.category() == beast::error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (parse_error) return respond_error(400, "bad request: " + ec.message(), true);
    close();  // the peer closed or reset, or a deadline closed the socket
  }

  HttpServer::Impl& server_;
  Worker& worker_;
  std::list<Session*>::iterator position_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::string remote_;
  std::string method_;
  std::string path_;
  std::string query_;
  uint64_t drain_remaining_ = 0;
  std::string drain_message_;
  State state_ = State::kIdle;
  Clock::time_point deadline_;
};

void HttpServer::Impl::accept() {
  Worker& worker = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(worker.ioc, [this, &worker](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;  // stopping
    if (ec) {  // out of descriptors or memory: try again a little later
      retry->expires_after(std::chrono::milliseconds(50));
      retry->async_wait([this](beast::error_code wait) {
        if (!wait && acceptor->is_open()) accept();
      });
      return;
    }
    {
      beast::error_code ignored;
      // Answers go out in one write, but a client's delayed ACK must never
      // hold the next one back.
      socket.set_option(tcp::no_delay(true), ignored);
      net::post(worker.ioc,
                [this, &worker, s = std::make_shared<tcp::socket>(std::move(socket))]() mutable {
                  if (worker.stopping) return;
                  std::make_shared<Session>(*this, worker, std::move(*s))->start();
                });
    }
    accept();
  });
}

void HttpServer::Impl::sweep(Worker& worker) {
  const auto now = Clock::now();
  // Closing a session may destroy it (and unlink it) only later, from its
  // handler; the list itself is safe to walk here.
  for (Session* session : worker.sessions) {
    const auto state = session->state();
    if (state != Session::State::kHandling && state != Session::State::kClosed &&
        now > session->deadline())
      session->close();
  }
  if (worker.stopping && worker.sessions.empty()) return;  // the loop may end
  worker.sweep.expires_after(kSweepInterval);
  worker.sweep.async_wait([this, &worker](beast::error_code ec) {
    if (!ec) sweep(worker);
  });
}

void HttpServer::Impl::close_idle(Worker& worker) {
  worker.stopping = true;
  // A request that has begun to arrive is read and answered (Connection: close).
  for (Session* session : worker.sessions)
    if (session->quiet()) session->close();
  if (worker.sessions.empty()) worker.sweep.cancel();  // else it keeps the deadlines of the rest
  worker.guard.reset();
}

void HttpServer::Impl::record(std::string_view method, std::string_view path,
                              std::string_view remote, int status, double seconds,
                              int64_t records) {
  owner.handler_.record_request(path, status, seconds);
  if (!owner.access_log_) return;
  thread_local std::string line;
  line.clear();
  line += "{\"time\":";
  append_utc_now(line);
  line += ",\"method\":";
  append_json_string(line, method.substr(0, 200));
  line += ",\"path\":";
  append_json_string(line, path.substr(0, 200));
  line += ",\"remote\":";
  append_json_string(line, remote.substr(0, 200));
  char tail[128];
  std::snprintf(tail, sizeof tail, ",\"status\":%d,\"ms\":%.3f,\"records\":%lld}\n", status,
                seconds * 1000, static_cast<long long>(records));
  line += tail;
  owner.access_log_->append(line);
}

HttpServer::HttpServer(HttpHandler& handler, HttpOptions options)
    : handler_(handler), options_(std::move(options)), impl_(std::make_unique<Impl>(*this)) {
  if (options_.access_log) access_log_ = std::make_unique<AccessLog>();
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const auto fail_bind = [&](const std::string& why) -> int {
    fail_internal("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + " (" +
                  why + ")");
  };
  beast::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  if (ec) return fail_bind("not an IP address");
  tcp::acceptor& acceptor = impl_->acceptor.emplace(impl_->workers[0]->ioc);
  impl_->retry.emplace(impl_->workers[0]->ioc);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail_bind(ec.message() + "; address in use or not local?");
  port_ = acceptor.local_endpoint().port();
  return port_;
}

void HttpServer::serve() {
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.stop_mutex);
    if (impl.stop_requested) return;
    impl.running = true;
  }
  if (impl.acceptor) impl.accept();
  for (auto& worker : impl.workers) impl.sweep(*worker);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.workers.size(); ++i)
    threads.emplace_back([&impl, i] { impl.workers[i]->ioc.run(); });
  impl.workers[0]->ioc.run();
  for (auto& t : threads) t.join();
  impl.running = false;
}

void HttpServer::stop() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.stop_mutex);
  if (impl.stop_requested) return;
  impl.stop_requested = true;
  if (!impl.running) return;  // serve() will not start
  net::post(impl.workers[0]->ioc, [&impl] {
    beast::error_code ec;
    if (impl.acceptor) impl.acceptor->close(ec);
    if (impl.retry) impl.retry->cancel();
  });
  for (auto& worker : impl.workers)
    net::post(worker->ioc, [&impl, w = worker.get()] { impl.close_idle(*w); });
}

bool HttpServer::is_running() const { return impl_->running; }

}  // namespace loadcast::serve
