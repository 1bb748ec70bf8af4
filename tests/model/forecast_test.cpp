// The fleet forecast (model/forecast.h, `loadcast forecast`): on a generated
// fleet its rows are what /v1/forecast answers for each server, value for
// value; the thread count changes nothing; the summary's idle and hot
// servers, counts and expected busy servers follow from the rows; the
// command writes the table as CSV, JSON and Parquet, records its run, and
// names a server the stores do not hold.
#include "model/forecast.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "parquet/file.h"
#include "serve/service.h"
#include "store/tables.h"
#include "support/csv.h"
#include "support/program.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ForecastTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    std::string log;
    ASSERT_EQ(
        testing::write_generated_case(dir_->path(), "--servers 24 --size 8M --seed 5", "", &log), 0)
        << log;
    const std::string config = (dir_->path() / "config.json").string();
    const std::string out = " --output " + out_dir().string();
    for (const char* step : {"etl ", "train "}) {
      const auto r = testing::run_program(step + config + out);
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path out_dir() { return dir_->path() / "out"; }

  void SetUp() override {
    model_ = serve::load_model_bundle(out_dir() / "model");
    stores_ = read_stores(out_dir(), model_->model.schema());
  }

  static testing::TempDir* dir_;
  std::shared_ptr<const serve::LoadedModel> model_;
  std::vector<ServerHistory> stores_;
};

testing::TempDir* ForecastTest::dir_ = nullptr;

void expect_same(const std::vector<ServerForecast>& a, const std::vector<ServerForecast>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].history, b[s].history);
    EXPECT_EQ(a[s].start, b[s].start);
    ASSERT_EQ(a[s].predictions.size(), b[s].predictions.size());
    for (size_t h = 0; h < a[s].predictions.size(); ++h) {
      EXPECT_EQ(a[s].predictions[h].label, b[s].predictions[h].label);
      EXPECT_EQ(a[s].predictions[h].probability, b[s].predictions[h].probability);
    }
  }
}

TEST_F(ForecastTest, EveryServersRowsAreWhatV1ForecastAnswers) {
  ASSERT_GE(stores_.size(), 24u);
  ForecastRequest request;
  request.threads = 2;
  const auto fleet = forecast_fleet(model_->model, stores_, request);
  ASSERT_EQ(fleet.size(), stores_.size());

  serve::ServiceOptions options;
  options.require_auth = false;
  serve::ScoringService service(options, model_, stores_);
  for (const ServerForecast& f : fleet) {
    const std::string body = json{{"serverIP", f.history->server_ip}, {"hours", 48}}.dump();
    const serve::HttpResponse r =
        service.handle({"POST", "/v1/forecast", "application/json", "", body, ""});
    ASSERT_EQ(r.status, 200) << r.body;
    const json answer = json::parse(r.body);
    const json& predictions = answer.at("predictions");
    ASSERT_EQ(predictions.size(), f.predictions.size());
    EXPECT_EQ(f.start, (f.history->last_hour() + 1) * kSecondsPerHour);
    for (size_t h = 0; h < predictions.size(); ++h) {
      const json& p = predictions[h];
      EXPECT_EQ(p.at("SessionStartHourTime"),
                format_timestamp(f.start + static_cast<int64_t>(h) * kSecondsPerHour));
      EXPECT_EQ(p.at("prediction"), f.predictions[h].label) << f.history->server_ip << " " << h;
      EXPECT_EQ(p.at("probabilities").at("low").get<double>(), f.predictions[h].probability[0]);
      EXPECT_EQ(p.at("probabilities").at("high").get<double>(), f.predictions[h].probability[2]);
    }
  }
}

TEST_F(ForecastTest, AStartAndAListOfServersAreTakenAsGivenWithAnyThreads) {
  ForecastRequest request;
  request.start = stores_.front().last_hour() * kSecondsPerHour - 24 * kSecondsPerHour;
  request.hours = 30;
  request.servers = {stores_[5].server_ip, stores_[2].server_ip, stores_[9].server_ip};
  request.threads = 1;
  const auto one = forecast_fleet(model_->model, stores_, request);
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(one[0].history->server_ip, stores_[5].server_ip);
  EXPECT_EQ(one[1].history->server_ip, stores_[2].server_ip);
  for (const ServerForecast& f : one) {
    EXPECT_EQ(f.start, *request.start);
    EXPECT_EQ(f.predictions.size(), 30u);
  }
  request.threads = 3;
  expect_same(one, forecast_fleet(model_->model, stores_, request));

  request.servers.push_back("203.0.113.250");
  try {
    forecast_fleet(model_->model, stores_, request);
    FAIL() << "an unknown server was forecast";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_NE(std::string(f.what()).find("server 203.0.113.250 is not in the stores"),
              std::string::npos)
        << f.what();
  }
}

TEST_F(ForecastTest, TheSummaryFollowsFromTheRows) {
  ForecastRequest request;
  request.start = (stores_.front().last_hour() + 1) * kSecondsPerHour;
  const auto fleet = forecast_fleet(model_->model, stores_, request);
  const ForecastSummary s = summarize(fleet);
  EXPECT_EQ(s.servers, static_cast<int64_t>(fleet.size()));
  EXPECT_EQ(s.rows, static_cast<int64_t>(fleet.size()) * 48);
  ASSERT_EQ(s.hours.size(), 48u);
  for (size_t h = 0; h < 48; ++h) {
    const ForecastSummary::Hour& hour = s.hours[h];
    EXPECT_EQ(hour.hour, *request.start + static_cast<int64_t>(h) * kSecondsPerHour);
    std::array<int64_t, 3> counts{};
    double busy = 0;
    for (const ServerForecast& f : fleet) {
      ++counts[static_cast<size_t>(f.predictions[h].label - 1)];
      busy += f.predictions[h].probability[1] + f.predictions[h].probability[2];
    }
    EXPECT_EQ(hour.counts, counts);
    EXPECT_EQ(hour.servers, static_cast<int64_t>(fleet.size()));
    EXPECT_NEAR(hour.expected_busy, busy, 1e-9);
  }
  std::vector<std::string> idle, hot;
  for (const ServerForecast& f : fleet) {
    bool all_low = true, any_high = false;
    for (const Prediction& p : f.predictions) {
      all_low = all_low && p.label == 1;
      any_high = any_high || p.label == 3;
    }
    if (all_low) idle.push_back(f.history->server_ip);
    if (any_high) hot.push_back(f.history->server_ip);
  }
  EXPECT_EQ(s.idle, idle);
  EXPECT_EQ(s.hot, hot);
  EXPECT_FALSE(hot.empty()) << "a generated fleet with no hot server cannot test the summary";
}

TEST_F(ForecastTest, TheCommandWritesEachFormatAndRecordsItsRun) {
  const fs::path ws = dir_->path() / "ws";
  const std::string common = "forecast --model " + (out_dir() / "model").string() + " --stores " +
                             out_dir().string() + " --hours 12 --workspace " + ws.string();
  const int64_t servers = static_cast<int64_t>(stores_.size());
  for (const char* format : {"csv", "json", "parquet"}) {
    const fs::path table = dir_->path() / (std::string("f.") + format);
    const auto r = testing::run_program(common + " --format " + format + " --out " +
                                        table.string() + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json summary = json::parse(r.output);
    EXPECT_EQ(summary.at("servers"), servers);
    EXPECT_EQ(summary.at("rows"), servers * 12);
    if (std::string(format) == "csv") {
      const testing::CsvTable csv = testing::read_csv(table);
      EXPECT_EQ(csv.header, (std::vector<std::string>{"ServerIP", "SessionStartHourTime",
                                                      "prediction", "label", "probabilityLow",
                                                      "probabilityMedium", "probabilityHigh"}));
      EXPECT_EQ(static_cast<int64_t>(csv.rows.size()), servers * 12);
    } else if (std::string(format) == "json") {
      const json rows = json::parse(testing::read_text(table));
      ASSERT_EQ(static_cast<int64_t>(rows.size()), servers * 12);
      const double sum = rows[0].at("probabilityLow").get<double>() +
                         rows[0].at("probabilityMedium").get<double>() +
                         rows[0].at("probabilityHigh").get<double>();
      EXPECT_NEAR(sum, 1.0, 1e-12);
    } else {
      const parquet::FileReader file(table);
      int64_t rows = 0;
      for (size_t g = 0; g < file.row_groups(); ++g) rows += file.rows(g);
      EXPECT_EQ(rows, servers * 12);
      EXPECT_EQ(file.columns().size(), 7u);
    }
  }
  const auto unknown = testing::run_program(common + " --servers 203.0.113.250");
  EXPECT_EQ(unknown.exit_code, 3) << unknown.output;
  EXPECT_EQ(unknown.output,
            "loadcast forecast: error: server 203.0.113.250 is not in the stores (they hold " +
                std::to_string(servers) + " servers)\n");
  const json runs = testing::recorded_runs(ws);
  ASSERT_EQ(runs.size(), 4u) << runs.dump();
  int finished = 0;
  for (const json& run : runs) {
    EXPECT_EQ(run.at("command"), "forecast");
    if (run.at("status") == "finished") ++finished;
  }
  EXPECT_EQ(finished, 3);
}

}  // namespace
}  // namespace loadcast
