// The scoring service over real HTTP on loopback: the four scoring contracts
// agree with each other and with the ETL's own rows, every bad-input class
// gets its status, auth, and a bounded fuzz run that must never see a 5xx.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "common/error.h"
#include "serve/records.h"
#include "serve/serve_fixture.h"
#include "support/program.h"

namespace loadcast::testing {
namespace {

using nlohmann::json;

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { bundle_ = std::make_unique<GoldenBundle>(); }
  static void TearDownTestSuite() { bundle_.reset(); }

  static json post_json(httplib::Client& c, const std::string& path, const std::string& body,
                        int expected = 200) {
    const auto res = c.Post(path, body, "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, expected) << path << ": " << res->body;
    return json::parse(res->body);
  }

  static json records_of(const std::vector<FeatureRow>& rows) {
    json records = json::array();
    for (const FeatureRow& row : rows)
      records.push_back(serve::record_of(row, default_feature_schema()));
    return records;
  }

  static std::unique_ptr<GoldenBundle> bundle_;
};
std::unique_ptr<GoldenBundle> ServeTest::bundle_;

// The original web service's example: two records, keys in shuffled order,
// calendar fields as integers, linearTrend the integer 0, lags as floats.
constexpr const char* kSeedExample = R"([
 {"peakLoadLag96": 181.0, "hourofday": 1, "key": "210.181.165.92_2016-06-29 01:00:00", "Morning": 0,
  "peakLoadLag48": 230.0, "peakLoadLag49": 310.0, "peakLoadLag50": 95.0, "peakLoadLag51": 0.0,
  "peakLoadLag52": 12.5, "peakLoadLag55": 40.0, "peakLoadLag60": 600.0, "peakLoadLag67": 75.25,
  "peakLoadLag72": 210.0, "peakLoadLag168": 90.0, "peakLoadLag730": 0.0, "year": 2016, "month": 6,
  "ServerIP": "210.181.165.92", "weekofyear": 26, "dayofmonth": 29, "dayofweek": "Wednesday",
  "Holiday": 0, "BusinessHour": 0, "linearTrend": 0, "SessionStartHourTime": "2016-06-29 01:00:00",
  "peakLoadDailyLag2Win7": 150.3, "peakBytesDailyLag2Win7": 40.1, "peakLoad1DailyLag2Win7": 10.0,
  "peakLoad2DailyLag2Win7": 11.0, "peakLoad3DailyLag2Win7": 12.0, "peakLoad4DailyLag2Win7": 13.0,
  "peakLoad5DailyLag2Win7": 14.0, "peakLoadSecureDailyLag2Win7": 20.0},
 {"SessionStartHourTime": "2016-06-29 02:00:00", "linearTrend": 0, "ServerIP": "210.181.165.92",
  "key": "210.181.165.92_2016-06-29 02:00:00", "dayofweek": "Wednesday", "year": 2016, "month": 6,
  "weekofyear": 26, "dayofmonth": 29, "hourofday": 2, "Holiday": 0, "BusinessHour": 0, "Morning": 0,
  "peakLoadLag48": 520.0, "peakLoadLag49": 230.0, "peakLoadLag50": 310.0, "peakLoadLag51": 95.0,
  "peakLoadLag52": 0.0, "peakLoadLag55": 33.0, "peakLoadLag60": 410.0, "peakLoadLag67": 80.0,
  "peakLoadLag72": 190.0, "peakLoadLag96": 175.0, "peakLoadLag168": 88.0, "peakLoadLag730": 0.0,
  "peakLoadSecureDailyLag2Win7": 20.0, "peakLoad5DailyLag2Win7": 14.0, "peakLoad4DailyLag2Win7": 13.0,
  "peakLoad3DailyLag2Win7": 12.0, "peakLoad2DailyLag2Win7": 11.0, "peakLoad1DailyLag2Win7": 10.0,
  "peakBytesDailyLag2Win7": 40.1, "peakLoadDailyLag2Win7": 150.3, "extra": "ignored"}
])";

TEST_F(ServeTest, ScoreAnswersTheSeedExampleInPandasIndexShape) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  const auto res = c.Post("/score", kSeedExample, "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json answer = json::parse(res->body);
  ASSERT_TRUE(answer.is_object());
  ASSERT_EQ(answer.size(), 2u);
  const char* hours[] = {"2016-06-29 01:00:00", "2016-06-29 02:00:00"};
  for (int i = 0; i < 2; ++i) {
    const json& row = answer.at(std::to_string(i));
    EXPECT_EQ(row.at("ServerIP"), "210.181.165.92");
    EXPECT_EQ(row.at("SessionStartHourTime"), hours[i]);
    ASSERT_TRUE(row.at("prediction").is_number_float()) << res->body;
    const double p = row["prediction"].get<double>();
    EXPECT_TRUE(p == 1.0 || p == 2.0 || p == 3.0) << p;
  }
  EXPECT_NE(res->body.find("\"prediction\":"), std::string::npos);
  EXPECT_NE(res->body.find(".0}"), std::string::npos)
      << "prediction must be written as a float: " << res->body;
}

// Every body of MLflow's scoring protocol, written by pandas itself as
// MLflow's clients write them, gives the predictions of /score.
TEST_F(ServeTest, InvocationsInEveryMlflowFormatAgreeWithScore) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  const json records = records_of(bundle_->etl_rows(kServer, kStart, 48));
  ASSERT_EQ(records.size(), 48u);
  const json score = post_json(c, "/score", records.dump());

  TempDir dir;
  write_text(dir.path() / "records.json", records.dump());
  std::string log;
  ASSERT_EQ(
      run_shell("/usr/bin/python3 " + std::string(LOADCAST_TESTS_DIR) + "/peers/mlflow_bodies.py " +
                    (dir.path() / "records.json").string() + " " + dir.path().string(),
                &log),
      0)
      << log;
  const std::pair<const char*, const char*> bodies[] = {
      {"split_index.json", "application/json"}, {"split.json", "application/json"},
      {"records.json", "application/json"},     {"instances.json", "application/json"},
      {"inputs.json", "application/json"},      {"index.csv", "text/csv"},
      {"plain.csv", "text/csv; charset=utf-8"}};
  for (const auto& [file, type] : bodies) {
    SCOPED_TRACE(file);
    const auto res = c.Post("/invocations", read_text(dir.path() / file), type);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json answer = json::parse(res->body);
    ASSERT_EQ(answer.at("predictions").size(), 48u);
    for (size_t i = 0; i < 48; ++i)
      EXPECT_EQ(answer["predictions"][i].get<double>(),
                score.at(std::to_string(i)).at("prediction").get<double>())
          << i;
  }
}

// MLflow's health and version paths, for its deployment tools.
TEST_F(ServeTest, PingHealthAndVersionAnswerAsMlflowsServerDoes) {
  LocalService local(*bundle_, serve::ServiceOptions{});  // keys required, none sent
  auto c = local.client();
  for (const char* path : {"/ping", "/health"}) {
    const auto res = c.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(json::parse(res->body).at("model"), local.service().model()->version) << path;
  }
  const auto version = c.Get("/version");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->status, 200);
  EXPECT_EQ(version->body, LOADCAST_VERSION "\n");
  EXPECT_EQ(c.Post("/invocations", "{}", "application/json")->status, 401);
}

// /metrics as Prometheus' own checker reads it, after answers of every kind.
TEST_F(ServeTest, MetricsPassPromtoolCheckMetrics) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  const json records = records_of(bundle_->etl_rows(kServer, kStart, 2));
  post_json(c, "/score", records.dump());
  post_json(c, "/invocations", json{{"inputs", records}}.dump());
  post_json(c, "/v1/forecast", json{{"serverIP", kServer}, {"hours", 3}}.dump());
  post_json(c, "/score", "[", 400);
  EXPECT_EQ(c.Get("/nope")->status, 404);
  const auto res = c.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->body.find(R"(loadcast_http_requests_total{path="/invocations",status="200"} 1)"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("loadcast_rows_scored_total 7"), std::string::npos) << res->body;

  TempDir dir;
  write_text(dir.path() / "metrics.txt", res->body);
  std::string problems;
  EXPECT_EQ(
      run_shell("promtool check metrics < " + (dir.path() / "metrics.txt").string(), &problems), 0)
      << problems << res->body;
  EXPECT_EQ(problems, "");
  // The checker does refuse what breaks its rules: a counter without _total.
  write_text(dir.path() / "bad.txt", "# HELP x_count n\n# TYPE x_count counter\nx_count 1\n");
  EXPECT_NE(run_shell("promtool check metrics < " + (dir.path() / "bad.txt").string(), &problems),
            0);
}

TEST_F(ServeTest, ForecastEqualsPredictOnTheEtlRows) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  const auto rows = bundle_->etl_rows(kServer, kStart, 48);
  ASSERT_EQ(rows.size(), 48u);
  const json predicted = post_json(c, "/v1/predict", records_of(rows).dump());
  const json forecast = post_json(
      c, "/v1/forecast", json{{"serverIP", kServer}, {"start", kStart}, {"hours", 48}}.dump());
  ASSERT_EQ(predicted.at("predictions").size(), 48u);
  ASSERT_EQ(forecast.at("predictions").size(), 48u);
  std::set<int> labels;
  for (size_t i = 0; i < 48; ++i) {
    const json& a = predicted["predictions"][i];
    const json& b = forecast["predictions"][i];
    EXPECT_EQ(a.at("key"), b.at("key")) << i;
    EXPECT_EQ(a.at("SessionStartHourTime"), b.at("SessionStartHourTime")) << i;
    EXPECT_EQ(a.at("prediction"), b.at("prediction")) << i;
    EXPECT_EQ(a.at("label"), b.at("label")) << i;
    EXPECT_EQ(a.at("probabilities"), b.at("probabilities")) << i;
    labels.insert(a["prediction"].get<int>());
  }
  EXPECT_EQ(predicted["predictions"][0]["key"], std::string(kServer) + "_" + kStart);
}

struct BadCase {
  const char* name;
  const char* method;
  const char* path;
  const char* content_type;
  std::string body;
  int status;
  const char* mentions;  // a substring the error must hold
};

TEST_F(ServeTest, EveryBadInputClassGetsItsStatus) {
  serve::ServiceOptions options = open_options();
  options.max_body_bytes = 4096;
  options.max_records = 3;
  LocalService local(*bundle_, options);
  auto c = local.client();
  const std::string good =
      R"({"ServerIP":"210.181.165.92","SessionStartHourTime":"2016-07-02 00:00:00"})";
  const BadCase cases[] = {
      {"malformed", "POST", "/score", "application/json", "[{\"ServerIP\":", 400, "malformed JSON"},
      {"not an array", "POST", "/score", "application/json", "{}", 400, "array"},
      {"wrong type", "POST", "/v1/predict", "application/json",
       "[" + good +
           ",{\"ServerIP\":\"x\",\"SessionStartHourTime\":\"2016-07-02 "
           "00:00:00\",\"month\":\"July\"}]",
       400, "record 1, field 'month'"},
      {"missing ServerIP", "POST", "/score", "application/json",
       R"([{"SessionStartHourTime":"2016-07-02 00:00:00"}])", 400, "record 0, field 'ServerIP'"},
      {"missing hour", "POST", "/score", "application/json", R"([{"ServerIP":"1.2.3.4"}])", 400,
       "SessionStartHourTime"},
      {"bad hour", "POST", "/score", "application/json",
       R"([{"ServerIP":"1.2.3.4","SessionStartHourTime":"2016-13-01 00:00:00"}])", 400,
       "SessionStartHourTime"},
      {"deep nesting", "POST", "/score", "application/json", std::string(200, '['), 400, "nesting"},
      {"invocations shape", "POST", "/invocations", "application/json", R"({"records":[]})", 400,
       "dataframe_records"},
      {"split rows", "POST", "/invocations", "application/json",
       R"({"dataframe_split":{"columns":["ServerIP"],"data":[[1,2]]}})", 400, "record 0"},
      {"split index", "POST", "/invocations", "application/json",
       R"({"dataframe_split":{"columns":["ServerIP"],"data":[["a"]],"index":[0,1]}})", 400,
       "dataframe_split.index"},
      {"two shapes", "POST", "/invocations", "application/json", R"({"instances":[],"inputs":[]})",
       400, "not both 'instances' and 'inputs'"},
      {"ragged columns", "POST", "/invocations", "application/json",
       R"({"inputs":{"ServerIP":["a","b"],"SessionStartHourTime":["2016-07-02 00:00:00"]}})", 400,
       "inputs.SessionStartHourTime: 1 values, but ServerIP has 2"},
      {"tensor rows", "POST", "/invocations", "application/json", R"({"instances":[[1,2]]})", 400,
       "record 0: expected an object"},
      {"csv fields", "POST", "/invocations", "text/csv",
       "ServerIP,SessionStartHourTime\n1.2.3.4,2016-07-02 00:00:00,7\n", 400,
       "line 2: 3 fields, but the header has 2"},
      {"csv quote", "POST", "/invocations", "text/csv",
       "ServerIP,SessionStartHourTime\n\"1.2.3.4,2016-07-02 00:00:00\n", 400,
       "line 2: a quoted field is not closed"},
      {"csv value", "POST", "/invocations", "text/csv",
       "ServerIP,SessionStartHourTime,month\n1.2.3.4,2016-07-02 00:00:00,July\n", 400,
       "record 0, field 'month'"},
      {"csv empty", "POST", "/invocations", "text/csv", "\n", 400, "empty"},
      {"csv bytes", "POST", "/invocations", "text/csv",
       "ServerIP,SessionStartHourTime\n\xa2\xa2,2016-07-02 00:00:00\n", 400, "not UTF-8"},
      {"csv rows", "POST", "/invocations", "text/csv",
       "ServerIP,SessionStartHourTime\n" + std::string(4, 'x') + ",2016-07-02 00:00:00\n" +
           "a,2016-07-02 00:00:00\na,2016-07-02 00:00:00\na,2016-07-02 00:00:00\n",
       413, "4 records are over the limit of 3"},
      {"unknown path", "GET", "/nope", "", "", 404, "/nope"},
      {"wrong method", "GET", "/score", "", "", 405, "POST"},
      {"wrong method 2", "POST", "/healthz", "application/json", "{}", 405, "GET"},
      {"too large", "POST", "/score", "application/json", "[" + std::string(5000, ' ') + "]", 413,
       "limit"},
      {"too many records", "POST", "/score", "application/json",
       "[" + good + "," + good + "," + good + "," + good + "]", 413, "limit"},
      {"not json", "POST", "/score", "text/csv", "a,b", 415, "Content-Type"},
      {"not csv", "POST", "/invocations", "text/plain", "a,b", 415, "application/json or text/csv"},
      {"no content type", "POST", "/v1/predict", "", "[]", 415, "Content-Type"},
      {"unknown server", "POST", "/v1/forecast", "application/json",
       R"({"serverIP":"9.9.9.9","start":"2016-07-02 00:00:00"})", 404, "9.9.9.9"},
      {"zero hours", "POST", "/v1/forecast", "application/json",
       R"({"serverIP":"210.181.165.92","hours":0})", 400, "hours"},
      {"too many hours", "POST", "/v1/forecast", "application/json",
       R"({"serverIP":"210.181.165.92","hours":337})", 400, "hours"},
      {"bad start", "POST", "/v1/forecast", "application/json",
       R"({"serverIP":"210.181.165.92","start":"soon"})", 400, "start"},
      {"no server", "POST", "/v1/forecast", "application/json",
       R"({"start":"2016-07-02 00:00:00"})", 400, "serverIP"},
  };
  for (const BadCase& bc : cases) {
    httplib::Request req;
    req.method = bc.method;
    req.path = bc.path;
    req.body = bc.body;
    if (*bc.content_type) req.set_header("Content-Type", bc.content_type);
    if (!bc.body.empty() || std::string(bc.method) == "POST")
      req.set_header("Content-Length", std::to_string(bc.body.size()));
    const auto res = c.send(req);
    ASSERT_TRUE(res) << bc.name;
    EXPECT_EQ(res->status, bc.status) << bc.name << ": " << res->body;
    json error;
    ASSERT_NO_THROW(error = json::parse(res->body)) << bc.name << ": " << res->body;
    ASSERT_TRUE(error.contains("error")) << bc.name;
    EXPECT_NE(error["error"].get<std::string>().find(bc.mentions), std::string::npos)
        << bc.name << ": " << error["error"];
  }
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

// Found by an outside fuzzing run: a number beyond the range of a double
// answered 500 (nlohmann's out_of_range escaped). It is the client's fault:
// 400, naming the record and field that held it.
TEST_F(ServeTest, ANumberBeyondTheRangeOfADoubleIsA400NamingItsField) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  struct Case {
    const char* path;
    std::string body;
    const char* mentions;
  };
  const std::string record =
      R"({"ServerIP":"210.181.165.92","SessionStartHourTime":"2016-07-01 00:00:00",)";
  const Case cases[] = {
      {"/score", "1e380", "body: the number 1e380 is beyond the range of a double"},
      {"/invocations", "1e380", "body: the number 1e380"},
      {"/v1/predict", "1e380", "body: the number 1e380"},
      {"/v1/forecast", "1e380", "body: the number 1e380"},
      {"/score", "[" + record + R"("peakLoadLag48":1e309}])",
       "record 0, field 'peakLoadLag48': the number 1e309"},
      {"/v1/predict", "[" + record + "\"year\":2016}," + record + R"("peakLoadLag730":1e999}])",
       "record 1, field 'peakLoadLag730': the number 1e999"},
      {"/invocations", R"({"dataframe_records":[)" + record + R"("peakLoadLag48":-1e309}]})",
       "record 0, field 'peakLoadLag48': the number -1e309"},
      {"/v1/forecast", R"({"serverIP":"210.181.165.92","hours":1e400})",
       "field 'hours': the number 1e400"},
      {"/score", "0.10000001e308000005551115123125",
       "body: the number 0.10000001e308000005551115123125"},
  };
  for (const Case& k : cases) {
    const auto res = c.Post(k.path, k.body, "application/json");
    ASSERT_TRUE(res) << k.path;
    EXPECT_EQ(res->status, 400) << k.path << " " << k.body << ": " << res->body;
    const json answer = json::parse(res->body);
    EXPECT_NE(answer["error"].get<std::string>().find(k.mentions), std::string::npos)
        << k.path << " " << k.body << ": " << res->body;
  }
  EXPECT_EQ(local.service().metrics().requests("/score", 500), 0);
}

// Found by an outside fuzzing run: an hour count past int64_t was refused,
// but the message showed it wrapped to -1.
TEST_F(ServeTest, AnHourCountPastInt64IsShownAsGiven) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  const json answer = post_json(
      c, "/v1/forecast", R"({"serverIP":"210.181.165.92","hours":18446744073709551615})", 400);
  EXPECT_EQ(answer["error"], "field 'hours': 18446744073709551615 is outside 1..336");
  EXPECT_EQ(
      post_json(c, "/v1/forecast", R"({"serverIP":"210.181.165.92","hours":-3})", 400)["error"],
      "field 'hours': -3 is outside 1..336");
}

TEST_F(ServeTest, PrimaryAndSecondaryKeysOpenScoringOnly) {
  serve::ServiceOptions options;
  options.keys = serve::ServiceKeys::parse("first-key-123, second-key-456", "test");
  LocalService local(*bundle_, options);
  auto c = local.client();
  const std::string body =
      R"([{"ServerIP":"210.181.165.92","SessionStartHourTime":"2016-07-02 00:00:00"}])";
  auto post = [&](const char* auth) {
    httplib::Headers headers;
    if (auth) headers.emplace("Authorization", auth);
    return c.Post("/score", headers, body, "application/json")->status;
  };
  EXPECT_EQ(post(nullptr), 401);
  EXPECT_EQ(post("Bearer wrong"), 401);
  EXPECT_EQ(post("Bearer first-key-12"), 401);
  EXPECT_EQ(post("Basic first-key-123"), 401);
  EXPECT_EQ(post("Bearer first-key-123"), 200);
  EXPECT_EQ(post("Bearer second-key-456"), 200);
  EXPECT_EQ(c.Get("/v1/model")->status, 401);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  const auto metrics = c.Get("/metrics");
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("loadcast_http_requests_total{path=\"/score\",status=\"401\"} 4"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("loadcast_rows_scored_total 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("loadcast_model_info{version=\"" + local.service().model()->version),
            std::string::npos);
  EXPECT_NE(metrics->body.find("loadcast_http_request_duration_seconds_bucket{le=\"+Inf\"}"),
            std::string::npos);
}

TEST(ServeAuth, ConstantTimeEqualCompares) {
  EXPECT_TRUE(serve::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(serve::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(serve::constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(serve::constant_time_equal("", "a"));
  EXPECT_THROW(serve::ServiceKeys::parse(" , ", "env"), Failure);
  EXPECT_THROW(serve::ServiceKeys::parse("a,b,c", "env"), Failure);
  EXPECT_EQ(serve::ServiceKeys::parse("# keys\nprimary\nsecondary\n", "file").size(), 2u);
}

// Mutated and random bodies against every endpoint: only 2xx/4xx, and the
// server stays healthy. Bounded in time as well as count.
TEST_F(ServeTest, FuzzedBodiesNeverGetA5xx) {
  LocalService local(*bundle_, open_options());
  auto c = local.client();
  c.set_keep_alive(true);
  const json records = records_of(bundle_->etl_rows(kServer, kStart, 3));
  const std::vector<std::string> seeds = {
      records.dump(),
      json{{"dataframe_records", records}}.dump(),
      R"({"dataframe_split":{"columns":["ServerIP","SessionStartHourTime","month"],"data":[["1.2.3.4","2016-07-01 00:00:00",7]]}})",
      R"({"serverIP":"210.181.165.92","start":"2016-07-02 00:00:00","hours":48})",
      kSeedExample,
  };
  const char* paths[] = {"/score", "/invocations", "/v1/predict", "/v1/forecast"};
  const std::string alphabet = "{}[]\",:0123456789.-+eE ntrufalsNaIf\\\x01\xff\xc3";
  std::mt19937_64 rng(20160701);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  int sent = 0;
  std::map<int, int> statuses;
  for (; sent < 3000 && std::chrono::steady_clock::now() < deadline; ++sent) {
    std::string body;
    if (sent % 10 == 0) {
      body.resize(pick(300));
      for (char& ch : body) ch = static_cast<char>(rng());
    } else {
      body = seeds[pick(seeds.size())];
      const int edits = 1 + static_cast<int>(pick(6));
      for (int e = 0; e < edits && !body.empty(); ++e) {
        const size_t at = pick(body.size());
        switch (pick(5)) {
          case 0:
            body[at] = alphabet[pick(alphabet.size())];
            break;
          case 1:
            body.erase(at, 1 + pick(20));
            break;
          case 2:
            body.insert(at, 1, alphabet[pick(alphabet.size())]);
            break;
          case 3:
            body.resize(at);
            break;
          default:
            body.insert(at, std::string(1 + pick(3), body[pick(body.size())]));
            break;
        }
      }
    }
    const auto res = c.Post(paths[pick(4)], body, "application/json");
    ASSERT_TRUE(res) << "request " << sent << " got no answer for body: " << body;
    ++statuses[res->status];
    ASSERT_LT(res->status, 500) << "body: " << body << "\nanswer: " << res->body;
  }
  EXPECT_GE(sent, 500);
  EXPECT_GT(statuses[200], 0);
  EXPECT_GT(statuses[400], 0);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Post("/score", seeds[0], "application/json")->status, 200);
}

}  // namespace
}  // namespace loadcast::testing
