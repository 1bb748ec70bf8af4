// The real `loadcast serve` and `loadcast score` binaries as child processes:
// SIGHUP reloads under load without losing a request (and a failed reload
// keeps the model), SIGTERM answers the request in flight and exits 0, and
// the client prints the service's forecast.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "serve/records.h"
#include "serve/serve_fixture.h"
#include "support/child_program.h"
#include "support/program.h"

namespace loadcast::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `loadcast serve` on a free port; killed (by its pid) if still running at the end.
class ServeProcess : public ChildProgram {
 public:
  ServeProcess(const fs::path& model, const fs::path& stores, const fs::path& log)
      : ChildProgram({"serve", "--model", model.string(), "--stores", stores.string(), "--port",
                      "0", "--threads", "2", "--no-auth"},
                     log) {}
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_tcp_nodelay(true);
    c.set_read_timeout(10, 0);
    return c;
  }
};

std::string body_of(const GoldenBundle& bundle) {
  json records = json::array();
  for (const FeatureRow& row : bundle.etl_rows(kServer, kStart, 48))
    records.push_back(serve::record_of(row, default_feature_schema()));
  return records.dump();
}

// Polls /metrics until it contains `line` (a whole counter line), for up to 20 s.
bool wait_for_metric(httplib::Client& c, const std::string& line) {
  for (int i = 0; i < 400; ++i) {
    if (const auto res = c.Get("/metrics"); res && res->body.find(line + "\n") != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(ServeProcess, SighupReloadsUnderLoadWithoutLosingARequest) {
  GoldenBundle bundle;
  TempDir temp;
  const fs::path model = temp.path() / "model";
  fs::copy(bundle.model_dir(), model);
  ServeProcess server(model, bundle.output(), temp.path() / "serve.log");
  ASSERT_GT(server.port(), 0);
  const std::string body = body_of(bundle);

  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&] {
      auto c = server.client();
      c.set_keep_alive(true);
      while (!done) {
        const auto res = c.Post("/score", body, "application/json");
        (res && res->status == 200 ? ok : failed)++;
      }
    });
  }
  // Signals that arrive while a reload runs coalesce, so each SIGHUP waits
  // until the previous reload is counted (slow under sanitizers).
  auto observer = server.client();
  for (int i = 1; i <= 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.signal(SIGHUP);
    EXPECT_TRUE(wait_for_metric(
        observer, "loadcast_model_reloads_total{result=\"ok\"} " + std::to_string(i)));
  }
  // A broken bundle: the reload fails and the old model keeps serving.
  fs::remove(model / "forest.json");
  server.signal(SIGHUP);
  EXPECT_TRUE(wait_for_metric(observer, "loadcast_model_reloads_total{result=\"failed\"} 1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  done = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 20);

  auto c = server.client();
  const auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("loadcast_model_reloads_total{result=\"ok\"} 5"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("loadcast_model_reloads_total{result=\"failed\"} 1"),
            std::string::npos);
  EXPECT_EQ(c.Post("/score", body, "application/json")->status, 200);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(10), 0);
}

TEST(ServeProcess, SigtermAnswersTheRequestInFlightAndExitsZero) {
  GoldenBundle bundle;
  TempDir temp;
  ServeProcess server(bundle.model_dir(), bundle.output(), temp.path() / "serve.log");
  ASSERT_GT(server.port(), 0);
  const std::string body = body_of(bundle);

  // Load from a client that opens a connection per request.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad_status{0};
  std::thread load([&] {
    auto c = server.client();
    while (!stop) {
      const auto res = c.Post("/score", body, "application/json");
      if (!res) break;  // refused: the server stopped accepting
      (res->status == 200 ? ok : bad_status)++;
    }
  });

  // A request in flight: headers and half the body sent before SIGTERM, the
  // rest after. It must still be answered.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head =
      "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  const std::string first = head + body.substr(0, body.size() / 2);
  ASSERT_EQ(write(fd, first.data(), first.size()), static_cast<ssize_t>(first.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string rest = body.substr(body.size() / 2);
  ASSERT_EQ(write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
    answer.append(buffer, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"prediction\":"), std::string::npos);

  EXPECT_EQ(server.wait_exit(15), 0);
  stop = true;
  load.join();
  EXPECT_EQ(bad_status.load(), 0);
  EXPECT_GT(ok.load(), 0);
}

// Runs `loadcast score ...`; returns stdout, sets the exit code.
std::string run_score(const std::string& args, int& code) {
  const std::string command = std::string(LOADCAST_BINARY) + " score " + args + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = pclose(pipe);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(ScoreClient, PrintsTheServiceForecastAndFailsClearly) {
  GoldenBundle bundle;
  TempDir temp;
  serve::ServiceOptions options;
  options.keys = serve::ServiceKeys::parse("primary-key,secondary-key", "test");
  LocalService local(bundle, options);
  const fs::path config = temp.path() / "webservice.json";
  write_text(config, json{{"url", "http://127.0.0.1:" + std::to_string(local.port()) + "/score"},
                          {"authorization", "secondary-key"},
                          {"statsLocation", bundle.output().string()}}
                         .dump());
  int code = -1;
  const fs::path workspace = temp.path() / "workspace";
  const std::string out = run_score(
      config.string() + " --start '" + kStart + "' --workspace " + workspace.string(), code);
  ASSERT_EQ(code, 0) << out;

  // The run is recorded, with its predictions counted and the key masked.
  const std::string shown =
      run_program("runs --workspace " + workspace.string() + " --format json show 1").output;
  const json run = json::parse(shown);
  EXPECT_EQ(run.dump().find("secondary-key"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"score\""), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"predictions\""), std::string::npos) << shown;
  EXPECT_NE(shown.find("finished"), std::string::npos) << shown;

  auto c = local.client();
  httplib::Headers auth = {{"Authorization", "Bearer primary-key"}};
  const auto res = c.Post("/v1/forecast", auth,
                          json{{"serverIP", kServer}, {"start", kStart}, {"hours", 48}}.dump(),
                          "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::ostringstream expected;
  const json forecast = json::parse(res->body);
  for (const json& p : forecast["predictions"])
    expected << p["SessionStartHourTime"].get<std::string>() << "  "
             << p["label"].get<std::string>() << " (" << p["prediction"].get<int>() << ")\n";
  EXPECT_EQ(out, expected.str());

  run_score(config.string() + " --server-ip 9.9.9.9 --workspace " + workspace.string(), code);
  EXPECT_EQ(code, 3);

  const fs::path unreachable = temp.path() / "down.json";
  write_text(unreachable,
             json{{"url", "http://127.0.0.1:1/score"}, {"statsLocation", bundle.output().string()}}
                 .dump());
  run_score(unreachable.string() + " --retries 2 --backoff-ms 10 --workspace " + workspace.string(),
            code);
  EXPECT_EQ(code, 1);

  const fs::path wrong_key = temp.path() / "wrong.json";
  write_text(wrong_key, json{{"url", "http://127.0.0.1:" + std::to_string(local.port()) + "/score"},
                             {"authorization", "Bearer nope"},
                             {"statsLocation", bundle.output().string()}}
                            .dump());
  run_score(wrong_key.string() + " --workspace " + workspace.string(), code);
  EXPECT_EQ(code, 1);
}

// The fleet forecast and the seed's client agree: `loadcast forecast` for the
// two seed servers gives, hour by hour, the labels `loadcast score` prints
// through the service (which builds its rows from the stores on its own).
TEST(ScoreClient, TheFleetForecastEqualsScoreForTheTwoSeedServers) {
  GoldenBundle bundle;
  TempDir temp;
  LocalService local(bundle, open_options());
  const fs::path config = temp.path() / "webservice.json";
  write_text(config, json{{"url", "http://127.0.0.1:" + std::to_string(local.port()) + "/score"},
                          {"statsLocation", bundle.output().string()}}
                         .dump());
  const std::string workspace = " --workspace " + (temp.path() / "workspace").string();
  const fs::path table = temp.path() / "forecast.csv";
  const auto forecast =
      run_program("forecast --model " + bundle.model_dir().string() + " --stores " +
                  bundle.output().string() + " --servers 115.220.193.16,210.181.165.92 --start '" +
                  kStart + "' --hours 48 --out " + table.string() + workspace);
  ASSERT_EQ(forecast.exit_code, 0) << forecast.output;
  const CsvTable rows = read_csv(table);
  ASSERT_EQ(rows.rows.size(), 96u);
  std::set<std::string> labels;
  for (const char* server : {"115.220.193.16", "210.181.165.92"}) {
    SCOPED_TRACE(server);
    std::ostringstream expected;
    for (const auto& row : rows.rows) {
      if (row[0] != server) continue;
      expected << row[1] << "  " << row[3] << " (" << row[2] << ")\n";
      labels.insert(row[3]);
    }
    int code = -1;
    const std::string out = run_score(
        config.string() + " --server-ip " + server + " --start '" + kStart + "'" + workspace, code);
    ASSERT_EQ(code, 0) << out;
    EXPECT_EQ(out, expected.str());
  }
  EXPECT_GE(labels.size(), 2u) << "the hours compared hold more than one class";
}

TEST(ServeCommandLine, RefusesToStartWithoutKeysOrWithARegistryReference) {
  GoldenBundle bundle;
  int code = -1;
  const std::string base = std::string(LOADCAST_BINARY) + " serve --port 0 --model ";
  auto run = [&](const std::string& args) {
    const int status =
        std::system(("env -u LOADCAST_SERVICE_KEYS " + base + args + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  code = run(bundle.model_dir().string());
  EXPECT_EQ(code, 2) << "no keys and no --no-auth";
  code = run("loadforecast@production --no-auth");
  EXPECT_EQ(code, 2);
  code = run((bundle.output() / "nothing").string() + " --no-auth");
  EXPECT_EQ(code, 3);
}

}  // namespace
}  // namespace loadcast::testing
