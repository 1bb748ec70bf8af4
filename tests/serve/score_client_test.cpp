// The scoring client's retries (docs/http-api.md): 5xx answers and dropped
// connections are retried with a doubling backoff up to the attempt bound,
// 4xx answers are not, and the answer is read back in record order.
#include "client/score_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/error.h"

namespace loadcast::client {
namespace {

using nlohmann::json;

// An HTTP server on a free loopback port whose /score answers from `answer`
// (called with the attempt number, from 1).
class FakeService {
 public:
  explicit FakeService(std::function<void(int, httplib::Response&)> answer)
      : answer_(std::move(answer)) {
    server_.Post("/score", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mutex_);
        last_authorization_ = req.get_header_value("Authorization");
      }
      answer_(++calls_, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeService() {
    server_.stop();
    thread_.join();
  }
  WebServiceConfig config() const {
    return {"http://127.0.0.1:" + std::to_string(port_) + "/score", "k1", {}};
  }
  int calls() const { return calls_; }
  std::string last_authorization() const {
    std::lock_guard lock(mutex_);
    return last_authorization_;
  }

 private:
  std::function<void(int, httplib::Response&)> answer_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> calls_{0};
  mutable std::mutex mutex_;
  std::string last_authorization_;  // guarded by mutex_
};

json two_records() {
  return json::array({{{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", "2016-07-01 00:00:00"}},
                      {{"ServerIP", "10.0.0.1"}, {"SessionStartHourTime", "2016-07-01 01:00:00"}}});
}

constexpr const char* kAnswer =
    R"({"0":{"ServerIP":"10.0.0.1","SessionStartHourTime":"2016-07-01 00:00:00","prediction":3.0},)"
    R"("1":{"ServerIP":"10.0.0.1","SessionStartHourTime":"2016-07-01 01:00:00","prediction":1.0}})";

RetryPolicy quick(int attempts) {
  RetryPolicy policy;
  policy.attempts = attempts;
  policy.first_backoff_ms = 20;
  policy.read_timeout_s = 5;
  return policy;
}

TEST(ScoreClientRetries, RetriesServerErrorsWithDoublingBackoff) {
  FakeService service([](int attempt, httplib::Response& res) {
    if (attempt <= 2) {
      res.status = attempt == 1 ? 503 : 500;
      res.set_content(R"({"error":"busy"})", "application/json");
    } else {
      res.set_content(kAnswer, "application/json");
    }
  });
  std::vector<std::string> retries;
  const auto start = std::chrono::steady_clock::now();
  const auto got = post_score(service.config(), two_records(), quick(4),
                              [&](const std::string& problem) { retries.push_back(problem); });
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].label, 3);
  EXPECT_EQ(got[1].label, 1);
  EXPECT_EQ(got[1].hour - got[0].hour, 3600);
  EXPECT_EQ(service.calls(), 3);
  EXPECT_EQ(service.last_authorization(), "Bearer k1");
  ASSERT_EQ(retries.size(), 2u);
  EXPECT_NE(retries[0].find("503"), std::string::npos) << retries[0];
  EXPECT_NE(retries[0].find("retrying in 20 ms"), std::string::npos) << retries[0];
  EXPECT_NE(retries[1].find("retrying in 40 ms"), std::string::npos) << retries[1];
  EXPECT_GE(waited, std::chrono::milliseconds(60));
}

TEST(ScoreClientRetries, GivesUpAfterTheAttemptBound) {
  FakeService service([](int, httplib::Response& res) { res.status = 502; });
  try {
    post_score(service.config(), two_records(), quick(3));
    FAIL() << "expected a failure";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("gave up after 3 attempts"), std::string::npos)
        << f.what();
  }
  EXPECT_EQ(service.calls(), 3);
}

TEST(ScoreClientRetries, DoesNotRetryAClientError) {
  FakeService service([](int, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error":"record 1, field 'SessionStartHourTime': missing"})",
                    "application/json");
  });
  try {
    post_score(service.config(), two_records(), quick(4));
    FAIL() << "expected a failure";
  } catch (const Failure& f) {
    EXPECT_NE(std::string(f.what()).find("answered 400: record 1, field 'SessionStartHourTime'"),
              std::string::npos)
        << f.what();
  }
  EXPECT_EQ(service.calls(), 1);
}

TEST(ScoreClientRetries, RetriesAnUnreachableServiceThenFails) {
  WebServiceConfig config;
  {
    FakeService gone([](int, httplib::Response&) {});
    config = gone.config();
  }  // stopped: nothing listens on its port any more
  int retried = 0;
  EXPECT_THROW(post_score(config, two_records(), quick(2), [&](const std::string&) { ++retried; }),
               Failure);
  EXPECT_EQ(retried, 1);
}

}  // namespace
}  // namespace loadcast::client
