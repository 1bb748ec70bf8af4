// The HTTP transport on raw sockets: what clients other than cpp-httplib
// send (Expect: 100-continue, chunked bodies, pipelined requests, HTTP/1.0,
// HEAD, query strings), what the transport refuses by itself (a bad request
// line, headers or a body over their limits) in the service's JSON error
// shape, more connections than worker threads, and a stop that answers what
// is in flight and closes idle connections at once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "serve/records.h"
#include "serve/serve_fixture.h"

namespace loadcast::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A blocking client socket on 127.0.0.1:port.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  void send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // Reads until `done(text)` holds, the peer closes, or the timeout passes.
  template <typename Done>
  std::string read_until(Done done,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (!done(received_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(chunk, static_cast<size_t>(n));
    }
    return received_;
  }
  // The next complete response (status line to the end of its body), removed
  // from what was received; "" if none came.
  std::string response() {
    read_until([](const std::string& text) { return complete(text) > 0; });
    const size_t n = complete(received_);
    const std::string out = received_.substr(0, n);
    received_.erase(0, n);
    return out;
  }
  // Whether the peer closed the connection (waiting up to `timeout`).
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    read_until([this](const std::string&) { return closed_; }, timeout);
    return closed_;
  }

 private:
  // The length of the first complete response in `text` (Content-Length
  // framed), or 0.
  static size_t complete(const std::string& text) {
    const size_t head_end = text.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    size_t length = 0;
    const size_t at = text.find("Content-Length: ");
    if (at != std::string::npos && at < head_end) length = std::stoul(text.substr(at + 16));
    if (text.rfind("HTTP/1.1 100", 0) == 0) return head_end + 4;  // an interim answer
    return text.size() >= head_end + 4 + length ? head_end + 4 + length : 0;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}
std::string body_of(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

class HttpTransport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { bundle_ = std::make_unique<GoldenBundle>(); }
  static void TearDownTestSuite() { bundle_.reset(); }
  static std::string score_body() {
    json records = json::array();
    for (const FeatureRow& row : bundle_->etl_rows(kServer, kStart, 3))
      records.push_back(serve::record_of(row, default_feature_schema()));
    return records.dump();
  }
  static std::string post(const std::string& path, const std::string& body,
                          const std::string& extra = "") {
    return "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
  }
  static std::unique_ptr<GoldenBundle> bundle_;
};
std::unique_ptr<GoldenBundle> HttpTransport::bundle_;

TEST_F(HttpTransport, AnswersWhatOtherClientsSend) {
  LocalService local(*bundle_, open_options(), 1);
  const std::string body = score_body();

  RawClient c(local.port());
  ASSERT_TRUE(c.connected());
  // Expect: 100-continue: the interim answer, then the body, then the answer.
  const std::string head =
      "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n";
  c.send(head);
  const std::string interim = c.response();
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0u) << interim;
  c.send(body);
  const std::string scored = c.response();
  EXPECT_EQ(status_of(scored), 200) << scored;
  EXPECT_EQ(json::parse(body_of(scored)).size(), 3u);

  // A chunked body, then two pipelined requests in one write, on the same
  // keep-alive connection; answers come in order.
  std::string chunked =
      "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 1000) {
    const std::string part = body.substr(at, 1000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    chunked += size + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  c.send(chunked);
  EXPECT_EQ(body_of(c.response()), body_of(scored));
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + post("/score?trace=1", body));
  EXPECT_EQ(body_of(c.response()), R"({"status":"ok"})");
  EXPECT_EQ(body_of(c.response()), body_of(scored));  // the query string is not part of the path

  // HEAD: the GET answer's headers, no body; a percent-encoded path.
  c.send("HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /%68ealthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string headed = c.read_until([](const std::string& text) {
    return text.find("HTTP/1.1", 10) != std::string::npos &&
           text.find(R"({"status":"ok"})") != std::string::npos;
  });
  EXPECT_EQ(status_of(headed), 200) << headed;
  EXPECT_NE(headed.find("Content-Length: "), std::string::npos);
  EXPECT_EQ(headed.find("ready\""), std::string::npos) << headed;  // no body for HEAD

  // HTTP/1.0 without keep-alive: one answer, then the server closes.
  RawClient old(local.port());
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_of(old.response()), 200);
  EXPECT_TRUE(old.closed_by_peer());
}

TEST_F(HttpTransport, RefusesBadRequestsInTheJsonErrorShape) {
  serve::ServiceOptions options = open_options();
  options.max_body_bytes = 4096;
  LocalService local(*bundle_, options, 1);

  struct Case {
    const char* name;
    std::string request;
    int status;
    const char* mentions;
  };
  const Case cases[] = {
      {"bad request line", "GARBAGE\r\n\r\n", 400, "bad request"},
      {"bad header", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "bad request"},
      {"headers too large",
       "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431, "headers"},
      {"body over the limit", post("/score", std::string(5000, ' ')), 413,
       "5000 bytes is over the limit of 4096"},
      {"chunked body over the limit",
       "POST /score HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: "
       "chunked\r\n\r\n1388\r\n" +
           std::string(5000, ' ') + "\r\n0\r\n\r\n",
       413, "limit"},
      {"over the limit, expecting 100-continue",
       "POST /score HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
       "Expect: 100-continue\r\n\r\n",
       413, "over the limit"},
  };
  for (const Case& bc : cases) {
    RawClient c(local.port());
    c.send(bc.request);
    const std::string answer = c.response();
    EXPECT_EQ(status_of(answer), bc.status) << bc.name << ": " << answer;
    json error;
    ASSERT_NO_THROW(error = json::parse(body_of(answer))) << bc.name << ": " << answer;
    EXPECT_NE(error["error"].get<std::string>().find(bc.mentions), std::string::npos)
        << bc.name << ": " << error;
    EXPECT_TRUE(c.closed_by_peer()) << bc.name;
  }
  auto c = local.client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(local.service().metrics().requests("/score", 413), 3);
}

// One worker thread holds any number of keep-alive connections: eight idle
// connections do not keep a ninth from being answered.
TEST_F(HttpTransport, ServesMoreConnectionsThanThreads) {
  LocalService local(*bundle_, open_options(), 1);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>(local.port()));
    clients.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of(clients.back()->response()), 200) << i;
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& c : clients) c->send(post("/score", score_body()));
    for (auto& c : clients) EXPECT_EQ(status_of(c->response()), 200) << round;
  }
}

// stop() closes idle keep-alive connections at once and answers a request
// whose body is still arriving.
TEST_F(HttpTransport, StopClosesIdleConnectionsAndFinishesRequestsInFlight) {
  auto service = std::make_unique<serve::ScoringService>(
      open_options(), serve::load_model_bundle(bundle_->model_dir()), std::vector<ServerHistory>{});
  serve::HttpOptions http;
  http.port = 0;
  http.threads = 2;
  http.access_log = false;
  http.keep_alive_seconds = 60;
  serve::HttpServer server(*service, http);
  const int port = server.bind();
  std::thread serving([&] { server.serve(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  RawClient idle(port);
  idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(status_of(idle.response()), 200);
  const std::string body = score_body();
  const std::string request = post("/score", body);
  RawClient busy(port);
  busy.send(request.substr(0, request.size() / 2));  // half a request in flight
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const auto start = Clock::now();
  server.stop();
  EXPECT_TRUE(idle.closed_by_peer(std::chrono::milliseconds(2000)));
  busy.send(request.substr(request.size() / 2));
  const std::string answer = busy.response();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  serving.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_FALSE(server.is_running());
  RawClient late(port);
  EXPECT_FALSE(late.connected());
}

// The resident set of this process, in bytes.
size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// What a careless or hostile client may do, all at once: thousands of
// connections that send a byte now and then, a 200 KB header, fifty
// pipelined requests, half-closed sockets and garbage. The service keeps
// answering /healthz promptly, refuses what it must, closes what stalls,
// and its memory stays bounded.
TEST_F(HttpTransport, KeepsAnsweringUnderAbuse) {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  // Each connection is two descriptors in this process (client and server).
  const int slow_count = static_cast<int>(std::min<rlim_t>(3000, (files.rlim_cur - 256) / 2));
  ASSERT_GE(slow_count, 400) << "too few file descriptors for the test";

  serve::HttpOptions http;
  http.port = 0;
  http.threads = 2;
  http.access_log = false;
  http.read_timeout_seconds = 2;
  http.keep_alive_seconds =
      2;  // a connection with a request begun counts as idle until its headers end
  auto service = std::make_unique<serve::ScoringService>(
      open_options(), serve::load_model_bundle(bundle_->model_dir()), std::vector<ServerHistory>{});
  serve::HttpServer server(*service, http);
  const int port = server.bind();
  std::thread serving([&] { server.serve(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const size_t rss_before = resident_bytes();

  // Slow clients: a request line begun, a byte at a time.
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < slow_count; ++i) {
    slow.push_back(std::make_unique<RawClient>(port));
    ASSERT_TRUE(slow.back()->connected()) << i;
    slow.back()->send("G");
  }
  for (auto& c : slow) c->send("E");

  const auto healthz_within = [&](std::chrono::milliseconds limit) {
    RawClient c(port);
    const auto start = Clock::now();
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string answer = c.response();
    return status_of(answer) == 200 && Clock::now() - start < limit;
  };
  EXPECT_TRUE(healthz_within(std::chrono::milliseconds(1000))) << slow_count << " slow clients";

  // A header of 200 KB: 431, and the connection closed.
  {
    RawClient c(port);
    c.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(200 * 1024, 'b') + "\r\n\r\n");
    EXPECT_EQ(status_of(c.response()), 431);
    EXPECT_TRUE(c.closed_by_peer());
  }
  // Fifty pipelined requests in one write: fifty answers, in order.
  {
    RawClient c(port);
    std::string many;
    for (int i = 0; i < 50; ++i) many += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    c.send(many);
    int answered = 0;
    for (int i = 0; i < 50; ++i) answered += status_of(c.response()) == 200;
    EXPECT_EQ(answered, 50);
  }
  // A client that sends its request and shuts its side: it still gets the answer.
  {
    RawClient c(port);
    c.send(post("/score", score_body()));
    c.shutdown_write();
    EXPECT_EQ(status_of(c.response()), 200);
  }
  // Garbage bytes, and a request cut off by a close: a 400 for the one, and
  // nothing the service cannot take for the other.
  {
    std::string garbage(4096, '\0');
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 256);
    RawClient c(port);
    c.send(garbage);
    EXPECT_EQ(status_of(c.response()), 400);
    EXPECT_TRUE(c.closed_by_peer());
    RawClient cut(port);
    cut.send(post("/score", score_body()).substr(0, 100));
  }
  EXPECT_TRUE(healthz_within(std::chrono::milliseconds(1000)));

  // The stalled clients are closed once their deadline passes.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  int closed = 0;
  for (auto& c : slow) closed += c->closed_by_peer(std::chrono::milliseconds(100));
  EXPECT_EQ(closed, slow_count);
  EXPECT_TRUE(healthz_within(std::chrono::milliseconds(1000)));
  // Memory for thousands of connections: bounded by their buffers, well
  // under 1 MB each.
  const size_t rss_after = resident_bytes();
  EXPECT_LT(rss_after, rss_before + size_t{256} * slow_count * 1024)
      << (rss_after - rss_before) / 1024 << " KB more for " << slow_count << " connections";

  slow.clear();
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace loadcast::testing
