// `loadcast ui` in a real browser: a workspace with real runs (etl, two
// trains, a failed etl, a registered version) served by the program, every
// page opened by Debian's chromium through playwright-core
// (tests/peers/check_dashboard.mjs), and what the pages show compared with
// the run history, the bundle's metrics and the forecast. Screenshots of
// every page are kept in the build folder (screenshots/dashboard/).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "common/url.h"
#include "model/forecast.h"
#include "serve/service.h"
#include "store/tables.h"
#include "support/child_program.h"
#include "support/csv.h"
#include "support/program.h"
#include "ui/html.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    fs::copy(LOADCAST_GOLDEN_DIR, dir_->path() / "case", fs::copy_options::recursive);
    const std::string config = (dir_->path() / "case" / "config.json").string();
    json small = json::parse(testing::read_text(config));
    small["forest"] = {{"numTrees", 20}, {"maxDepth", 5}};
    testing::write_text(dir_->path() / "case" / "small.json", small.dump());
    json broken = json::parse(testing::read_text(config));
    broken["dataFile"] = "input/nothing-*.csv";
    testing::write_text(dir_->path() / "case" / "broken.json", broken.dump());

    const std::string ws = " --workspace " + workspace().string();
    const std::string out = " --output " + (dir_->path() / "out").string();
    const std::string small_out = " --output " + (dir_->path() / "out-small").string();
    const std::pair<std::string, int> steps[] = {
        {"etl " + config + out + ws, 0},
        {"train " + config + out + ws, 0},
        {"etl " + config + small_out + ws, 0},
        {"train " + (dir_->path() / "case" / "small.json").string() + small_out + ws, 0},
        {"etl " + (dir_->path() / "case" / "broken.json").string() + out + ws, 3},
        {"models register --run 2 --name fleet" + ws, 0},
        {"models promote fleet 1 --stage staging" + ws, 0},
    };
    for (const auto& [args, code] : steps) {
      const auto r = testing::run_program(args);
      ASSERT_EQ(r.exit_code, code) << args << "\n" << r.output;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path workspace() { return dir_->path() / "ws"; }
  static fs::path out() { return dir_->path() / "out"; }
  // Every run in full (`runs show`), newest first as `runs list` has them.
  static json history() {
    json runs = json::array();
    for (const json& row : testing::recorded_runs(workspace()))
      runs.push_back(json::parse(testing::run_program("runs --format json show " +
                                                      std::to_string(row.at("id").get<int64_t>()) +
                                                      " --workspace " + workspace().string())
                                     .output));
    return runs;
  }

  static testing::TempDir* dir_;
};
testing::TempDir* DashboardTest::dir_ = nullptr;

const json& run_of(const json& runs, int64_t id) {
  for (const json& r : runs)
    if (r.at("id") == id) return r;
  static const json none;
  return none;
}

double metric_of(const json& run, const std::string& name) {
  for (const json& m : run.at("metrics"))
    if (m.at("name") == name) return m.at("value").get<double>();
  return NAN;
}

TEST_F(DashboardTest, EveryPageShowsTheHistoryInARealBrowser) {
  testing::ChildProgram ui({"ui", "--workspace", workspace().string(), "--port", "0", "--model",
                            (out() / "model").string(), "--stores", out().string()},
                           dir_->path() / "ui.log");
  ASSERT_GT(ui.port(), 0) << ui.first_line() << testing::read_text(dir_->path() / "ui.log");

  const json runs = history();
  ASSERT_EQ(runs.size(), 5u);
  // Run ids as recorded: 1 etl, 2 train, 3 etl, 4 train (small), 5 failed etl.
  const int64_t train = 2, small_train = 4, failed = 5;
  ASSERT_EQ(run_of(runs, failed).at("status"), "failed");
  const std::string server = "115.220.193.16";
  const fs::path plan = dir_->path() / "plan.json";
  testing::write_text(plan, json{{"trainRun", train},
                                 {"failedRun", failed},
                                 {"compare", {train, small_train}},
                                 {"server", server}}
                                .dump());
  const fs::path shots = fs::current_path() / "screenshots" / "dashboard";
  fs::create_directories(shots);
  const fs::path report_file = dir_->path() / "report.json";
  std::string log;
  const int code = testing::run_shell(
      "node " + std::string(LOADCAST_TESTS_DIR) +
          "/peers/check_dashboard.mjs http://127.0.0.1:" + std::to_string(ui.port()) + " " +
          plan.string() + " " + report_file.string() + " " + shots.string(),
      &log);
  ASSERT_EQ(code, 0) << log;
  const json report = json::parse(testing::read_text(report_file));
  const json& pages = report.at("pages");

  EXPECT_EQ(report.at("consoleErrors"), json::array());
  EXPECT_EQ(report.at("offLoopback"), json::array()) << "a request left loopback";
  EXPECT_EQ(report.at("failedRequests"), json::array());
  for (const auto& [name, entry] : pages.items()) {
    EXPECT_EQ(entry.at("status"), name == "missing" ? 404 : 200) << name;
    EXPECT_TRUE(fs::exists(shots / (name + ".png"))) << name;
  }

  // The runs table: every run of the history, newest first, as recorded.
  const json& rows = pages.at("runs").at("rows");
  ASSERT_EQ(rows.size(), runs.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("id"), runs[i].at("id"));
    EXPECT_EQ(rows[i].at("command"), runs[i].at("command"));
    EXPECT_EQ(rows[i].at("status"), runs[i].at("status"));
  }
  const std::string accuracy = ui::format_number(metric_of(run_of(runs, train), "test.accuracy"));
  EXPECT_EQ(rows[3].at("metrics").at("test.accuracy"), "test.accuracy " + accuracy);
  json train_ids = json::array();
  for (const json& r : pages.at("runs-train").at("rows")) train_ids.push_back(r.at("id"));
  EXPECT_EQ(train_ids, (json{small_train, train}));

  // A train run: its metrics as recorded, its bundle's confusion matrix cell for cell.
  const json& run = pages.at("run-train");
  for (const json& m : run_of(runs, train).at("metrics"))
    EXPECT_EQ(run.at("metrics").at(m.at("name").get<std::string>()),
              ui::format_number(m.at("value").get<double>(), 6))
        << m;
  const json bundle_metrics = json::parse(testing::read_text(out() / "model" / "metrics.json"));
  const json& confusion = bundle_metrics.at("test").at("confusion");
  ASSERT_EQ(run.at("confusion").size(), 9u);
  int64_t total = 0;
  for (const json& c : run.at("confusion")) {
    const int64_t expected = confusion.at(c.at("row").get<size_t>()).at(c.at("col").get<size_t>());
    EXPECT_EQ(c.at("count"), expected) << c;
    EXPECT_EQ(c.at("shown"), std::to_string(expected)) << c;
    total += expected;
  }
  EXPECT_EQ(total, bundle_metrics.at("test").at("rows"));
  EXPECT_EQ(run.at("perClass"), 3);
  EXPECT_GT(run.at("importances").get<int>(), 0);
  ASSERT_EQ(run.at("artifacts").size(), run_of(runs, train).at("artifacts").size());
  EXPECT_EQ(run.at("artifacts")[0].at("sha256"),
            run_of(runs, train).at("artifacts")[0].at("sha256"));

  // The failed run says why.
  EXPECT_NE(pages.at("run-failed").at("title").get<std::string>().find("failed"),
            std::string::npos);
  EXPECT_EQ(pages.at("run-failed").at("error"), run_of(runs, failed).at("error"));

  // Two runs compared: one point per run, at the recorded accuracy.
  const json& points = pages.at("compare").at("points");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(pages.at("compare").at("chosen"), "test.accuracy");
  for (const json& p : points) {
    const int64_t id = std::stoll(p.at("x").get<std::string>().substr(4));  // "run N"
    EXPECT_TRUE(id == train || id == small_train) << p;
    EXPECT_EQ(p.at("value").get<double>(), metric_of(run_of(runs, id), "test.accuracy"));
  }

  EXPECT_EQ(pages.at("models").at("rows"),
            (json::array({{{"name", "fleet"}, {"version", 1}, {"stage", "staging"}}})));

  // The fleet: every server of the stores; one server's hours as the forecast has them.
  const auto model = serve::load_model_bundle(out() / "model");
  const std::vector<ServerHistory> stores = read_stores(out(), model->model.schema());
  ForecastRequest request;
  request.servers = {server};
  const auto forecast = forecast_fleet(model->model, stores, request);
  EXPECT_EQ(pages.at("fleet").at("summary").at("servers"), std::to_string(stores.size()));
  EXPECT_EQ(pages.at("fleet").at("servers").size(), stores.size());
  EXPECT_EQ(pages.at("fleet").at("chartLines"), 4);
  const json& hours = pages.at("server").at("hours");
  ASSERT_EQ(hours.size(), forecast.at(0).predictions.size());
  for (size_t h = 0; h < hours.size(); ++h)
    EXPECT_EQ(hours[h].at("label"),
              kLabelNames[static_cast<size_t>(forecast[0].predictions[h].label - 1)])
        << h;
  EXPECT_EQ(pages.at("server").at("thresholds"), (json{100.0, 500.0}));
  EXPECT_EQ(pages.at("server").at("history").size(), 1u);
  EXPECT_NE(pages.at("missing").at("message").get<std::string>().find("999999"), std::string::npos);
}

TEST_F(DashboardTest, PromotingNeedsWritesAllowedAndAServiceKey) {
  const auto stage_of_version_1 = [] {
    const auto r =
        testing::run_program("models list --format json --workspace " + workspace().string());
    return json::parse(r.output).at(0).at("stage").get<std::string>();
  };
  const auto post = [](int port, const std::string& form) {
    httplib::Client c("127.0.0.1", port);
    return c.Post("/models/promote", form, "application/x-www-form-urlencoded");
  };
  {
    testing::ChildProgram ui({"ui", "--workspace", workspace().string(), "--port", "0"},
                             dir_->path() / "ui-read-only.log");
    ASSERT_GT(ui.port(), 0) << ui.first_line();
    const auto res =
        post(ui.port(), "name=fleet&version=1&stage=production&serviceKey=primary-key");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403);
    EXPECT_NE(res->body.find("read-only"), std::string::npos);
  }
  EXPECT_EQ(stage_of_version_1(), "staging");

  const fs::path keys = dir_->path() / "keys.txt";
  testing::write_text(keys, "primary-key,secondary-key\n");
  testing::ChildProgram ui({"ui", "--workspace", workspace().string(), "--port", "0",
                            "--allow-writes", "--keys-file", keys.string()},
                           dir_->path() / "ui-writes.log");
  ASSERT_GT(ui.port(), 0) << ui.first_line();
  const auto no_key = post(ui.port(), "name=fleet&version=1&stage=production&serviceKey=nope");
  ASSERT_TRUE(no_key);
  EXPECT_EQ(no_key->status, 401);
  const auto bad_stage =
      post(ui.port(), "name=fleet&version=1&stage=live&serviceKey=secondary-key");
  ASSERT_TRUE(bad_stage);
  EXPECT_EQ(bad_stage->status, 400);
  EXPECT_EQ(stage_of_version_1(), "staging");
  const auto ok = post(ui.port(), "name=fleet&version=1&stage=production&serviceKey=secondary-key");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303);
  EXPECT_EQ(ok->get_header_value("Location"), "/models");
  EXPECT_EQ(stage_of_version_1(), "production");
  ui.signal(SIGTERM);
  EXPECT_EQ(ui.wait_exit(10), 0);
}

// A real tuning run on the golden case (two folds of a day, two depths):
// its page lists both trials with the recorded mean of each, shades the
// best one the run recorded, and charts them; a trial's page names its
// tuning run, and the runs table holds only runs of their own.
TEST(DashboardTrials, ATuningRunShowsItsTrialsAndTheBest) {
  testing::TempDir dir;
  fs::copy(LOADCAST_GOLDEN_DIR, dir.path() / "case", fs::copy_options::recursive);
  json tuned = json::parse(testing::read_text(dir.path() / "case" / "config.json"));
  tuned["forest"] = {{"numTrees", 10}};
  tuned["tuning"] = {{"folds", 2}, {"foldDays", 1}, {"space", {{"forest.maxDepth", {2, 5}}}}};
  testing::write_text(dir.path() / "case" / "tune.json", tuned.dump());
  const std::string ws = " --workspace " + (dir.path() / "ws").string();
  const std::string config = (dir.path() / "case" / "tune.json").string();
  const std::string out = " --output " + (dir.path() / "out").string();
  for (const std::string& step : {"etl " + config + out + ws, "tune " + config + out + ws}) {
    const auto r = testing::run_program(step);
    ASSERT_EQ(r.exit_code, 0) << step << "\n" << r.output;
  }
  const json runs = testing::recorded_runs(dir.path() / "ws");
  ASSERT_EQ(runs.size(), 2u);  // etl and tune; the trials are the tune run's
  const int64_t tune_id = runs.at(0).at("id");
  const json shown = json::parse(
      testing::run_program("runs --format json show " + std::to_string(tune_id) + ws).output);
  const json& trials = shown.at("children");
  ASSERT_EQ(trials.size(), 2u);
  const double best = metric_of(shown, "best_trial");

  testing::ChildProgram ui({"ui", "--workspace", (dir.path() / "ws").string(), "--port", "0"},
                           dir.path() / "ui.log");
  ASSERT_GT(ui.port(), 0) << ui.first_line();
  httplib::Client client("127.0.0.1", ui.port());
  const auto page = client.Get("/runs/" + std::to_string(tune_id));
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  const std::string& html = page->body;
  ASSERT_NE(html.find("<table id=\"trials\">"), std::string::npos);
  for (const json& trial : trials) {
    const std::string index = trial.at("params").at("trial");
    const size_t row = html.find("<tr data-trial=\"" + index + "\"");
    ASSERT_NE(row, std::string::npos) << "trial " << index;
    const std::string cells = html.substr(row, html.find("</tr>", row) - row);
    EXPECT_EQ(cells.find("data-best") != std::string::npos, std::stod(index) == best) << cells;
    EXPECT_NE(cells.find("/runs/" + std::to_string(trial.at("id").get<int64_t>())),
              std::string::npos);
    const size_t mean = cells.find("data-mean=\"");
    ASSERT_NE(mean, std::string::npos);
    EXPECT_DOUBLE_EQ(std::stod(cells.substr(mean + 11)), metric_of(trial, "mean.accuracy"));
  }
  EXPECT_EQ(html.find("data-best", html.find("data-best") + 1), std::string::npos);
  EXPECT_NE(html.find("id=\"trials-chart\""), std::string::npos);
  const auto child = client.Get("/runs/" + std::to_string(trials.at(0).at("id").get<int64_t>()));
  ASSERT_TRUE(child);
  EXPECT_NE(child->body.find("<td id=\"parent\">run <a href=\"/runs/" + std::to_string(tune_id)),
            std::string::npos);
  const auto list = client.Get("/");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->body.find(">trial<"), std::string::npos);
  ui.signal(SIGTERM);
  EXPECT_EQ(ui.wait_exit(10), 0);
}

TEST(DashboardHtml, QueryValuesAreDecodedAndEscapingCoversMarkup) {
  EXPECT_EQ(ui::query_values("ids=1,2&x=y&ids=3", "ids", true),
            (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(ui::query_value("command=a+b%2Fc&status=", "command"), "a b/c");
  EXPECT_EQ(ui::query_value("status=", "status"), "");
  EXPECT_EQ(ui::query_value("status", "command"), std::nullopt);
  EXPECT_EQ(ui::query_value("k=%zz%4", "k"), "%zz%4");
  EXPECT_EQ(ui::escaped("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(url_encode("2001:db8::7"), "2001%3Adb8%3A%3A7");
  EXPECT_EQ(ui::format_number(0.944444444), "0.9444");
  EXPECT_EQ(ui::format_bytes(1400000), "1.4 MB");
}

}  // namespace
}  // namespace loadcast
