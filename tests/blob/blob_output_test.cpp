// Outputs in blob storage against the real emulator: etl and train publish
// the tables and bundle of the golden case read from blobs (each part a
// generation named by the manifest, written last), and of a generated month
// of blobs in the seed's layout on MPI ranks; train, serve, score, forecast
// and models register read them from there and give exactly what the same
// commands give on a local output. A run that fails or is killed while
// publishing leaves the previous manifest and its blobs as they were.
#include "store/blob_output.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "blob/client.h"
#include "common/error.h"
#include "support/azurite.h"
#include "support/child_program.h"
#include "support/csv.h"
#include "support/mpirun.h"
#include "support/outputs.h"
#include "support/program.h"
#include "ui/dashboard.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::Azurite;

constexpr const char* kStart = "2016-07-02 00:00:00";
constexpr const char* kServers = "115.220.193.16,210.181.165.92";

class BlobOutputTest : public testing::AzuriteSuite {
 protected:
  void SetUp() override {
    AzuriteSuite::SetUp();
    // The child programs (serve) take the emulator from the environment too,
    // and make their scratch folders where the test can see them.
    setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_->connection_string().c_str(), 1);
    fs::create_directories(scratch());
    fs::create_directories(temp_.path() / "killed");
    if (const char* tmp = std::getenv("TMPDIR")) saved_tmpdir_ = tmp;
    setenv("TMPDIR", scratch().c_str(), 1);
  }
  void TearDown() override {
    unsetenv("AZURE_STORAGE_CONNECTION_STRING");
    if (saved_tmpdir_)
      setenv("TMPDIR", saved_tmpdir_->c_str(), 1);
    else
      unsetenv("TMPDIR");
    // Every command removed the scratch folders it made.
    if (fs::is_directory(scratch())) {
      EXPECT_TRUE(fs::is_empty(scratch())) << fs::directory_iterator(scratch())->path();
    }
  }
  fs::path scratch() const { return temp_.path() / "tmp"; }

  // The golden configuration reading `data_file` (default: its own input)
  // and writing to `output` (a folder or a URL).
  fs::path config_for(const std::string& name, const std::string& output,
                      const std::string& data_file = "") {
    auto j = json::parse(testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "config.json"));
    j["dataFile"] = data_file.empty()
                        ? (fs::path(LOADCAST_GOLDEN_DIR) / "input/request.csv").string()
                        : data_file;
    j["output"] = output;
    const fs::path path = temp_.path() / (name + ".json");
    testing::write_text(path, j.dump());
    return path;
  }

  std::string url(const std::string& prefix) const {
    return azurite_->endpoint() + "/outputs/" + prefix;
  }

  testing::ProgramOutcome run(const std::string& args, const std::string& workspace = "ws") {
    return testing::run_program(args + " --workspace " + (temp_.path() / workspace).string());
  }

  // The blob names under `prefix` of the outputs container.
  std::set<std::string> blobs_under(const std::string& prefix) {
    std::set<std::string> names;
    for (const auto& item : client_->list("outputs", prefix)) names.insert(item.name);
    return names;
  }

  std::string manifest_text(const std::string& prefix) {
    const std::string name = prefix + "/manifest.json";
    const auto bytes = client_->size_of("outputs", name);
    if (!bytes) return "";
    std::string text(static_cast<size_t>(*bytes), '\0');
    client_->read("outputs", name, 0, text.size(), text.data());
    return text;
  }

  // The current part of an output, fetched into a new folder.
  fs::path fetched(const std::string& prefix, std::string_view part, const std::string& into) {
    BlobOutput output(url(prefix), blob::environment_storage());
    const fs::path dir = temp_.path() / into;
    output.fetch(part, dir);
    return dir;
  }

  testing::TempDir temp_;
  std::optional<std::string> saved_tmpdir_;
};

TEST_F(BlobOutputTest, EtlAndTrainPublishAndEveryReaderTakesTheOutputFromThere) {
  const fs::path local = temp_.path() / "local";
  const fs::path local_config = config_for("local", local.string());
  for (const char* command : {"etl ", "train "}) {
    const auto outcome = run(command + local_config.string(), "ws-local");
    ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  }

  // Sessions and output both in blob storage.
  client_->create_container("sessions");
  client_->put("sessions", "input/request.csv",
               testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "input/request.csv"));
  const std::string out = url("golden");
  const fs::path remote_config = config_for(
      "remote", out, "wasb://sessions@devstoreaccount1.blob.core.windows.net/input/*.csv");
  const auto etl = run("etl " + remote_config.string());
  ASSERT_EQ(etl.exit_code, 0) << etl.output;
  EXPECT_NE(etl.output.find("-> " + out + " (csv)"), std::string::npos) << etl.output;
  EXPECT_NE(etl.output.find("as generation tables-"), std::string::npos) << etl.output;
  const auto train = run("train " + remote_config.string());
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("(generation model-"), std::string::npos) << train.output;

  // The same table bytes, line accounting and bundle as the local output.
  const fs::path tables = fetched("golden", kTablesPart, "fetched-tables");
  ASSERT_FALSE(testing::output_tables(local).empty());
  EXPECT_EQ(testing::output_tables(tables), testing::output_tables(local));
  EXPECT_EQ(testing::output_accounting(tables), testing::output_accounting(local));
  const fs::path model = fetched("golden", kModelPart, "fetched-model");
  EXPECT_EQ(testing::read_text(model / "model/forest.json"),
            testing::read_text(local / "model/forest.json"));
  EXPECT_EQ(testing::read_text(model / "model/encoder.json"),
            testing::read_text(local / "model/encoder.json"));

  // The manifest names one generation of each part; nothing else is stored.
  const json manifest = json::parse(manifest_text("golden"));
  std::set<std::string> expected_blobs = {"golden/manifest.json"};
  for (const char* part : {"tables", "model"}) {
    const std::string generation = manifest["parts"][part]["generation"];
    for (const json& b : manifest["parts"][part]["blobs"])
      expected_blobs.insert("golden/generations/" + generation + "/" +
                            b["name"].get<std::string>());
  }
  EXPECT_EQ(blobs_under("golden/"), expected_blobs);

  // forecast from the blob output's model and stores: the local forecast.
  const fs::path remote_table = temp_.path() / "forecast-remote.csv";
  const fs::path local_table = temp_.path() / "forecast-local.csv";
  const std::string hours =
      std::string(" --servers ") + kServers + " --start '" + kStart + "' --hours 48 --out ";
  const auto forecast_remote =
      run("forecast --model " + out + " --stores " + out + hours + remote_table.string());
  ASSERT_EQ(forecast_remote.exit_code, 0) << forecast_remote.output;
  const auto forecast_local = run("forecast --model " + (local / "model").string() + " --stores " +
                                  local.string() + hours + local_table.string());
  ASSERT_EQ(forecast_local.exit_code, 0) << forecast_local.output;
  EXPECT_EQ(testing::read_text(remote_table), testing::read_text(local_table));

  // serve --model URL --stores URL, and score reading its stores from the URL:
  // the local forecast's classes, hour by hour.
  testing::ChildProgram serve(
      {"serve", "--model", out, "--stores", out, "--no-auth", "--port", "0", "--no-access-log"},
      temp_.path() / "serve.log");
  ASSERT_GT(serve.port(), 0) << testing::read_text(temp_.path() / "serve.log");
  const fs::path webservice = temp_.path() / "webservice.json";
  testing::write_text(webservice,
                      json{{"url", "http://127.0.0.1:" + std::to_string(serve.port()) + "/score"},
                           {"statsLocation", out}}
                          .dump());
  const testing::CsvTable rows = testing::read_csv(local_table);
  ASSERT_EQ(rows.rows.size(), 96u);
  for (const std::string server : {"115.220.193.16", "210.181.165.92"}) {
    std::string expected;
    for (const auto& row : rows.rows)
      if (row[0] == server) expected += row[1] + "  " + row[3] + " (" + row[2] + ")\n";
    const auto score = testing::run_program("score " + webservice.string() + " --server-ip " +
                                            server + " --start '" + kStart + "' --workspace " +
                                            (temp_.path() / "ws").string() + " 2>/dev/null");
    ASSERT_EQ(score.exit_code, 0) << score.output;
    EXPECT_EQ(score.output, expected) << server;
  }

  // SIGHUP: the bundle is fetched again and reloaded; SIGTERM: the copy goes.
  serve.signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    reloaded = testing::read_text(temp_.path() / "serve.log").find("loadcast serve: reloaded") !=
               std::string::npos;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reloaded) << testing::read_text(temp_.path() / "serve.log");
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait_exit(20), 0);

  // The run history records the blobs, and registers the bundle from them.
  const json runs = testing::recorded_runs(temp_.path() / "ws");
  int64_t train_run = 0;
  for (const json& r : runs)
    if (r["command"] == "train") train_run = r["id"].get<int64_t>();
  ASSERT_GT(train_run, 0) << runs.dump();
  const auto shown = run("runs --format json show " + std::to_string(train_run));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  const json details = json::parse(shown.output);
  EXPECT_NE(details.dump().find(out + "/generations/model-"), std::string::npos) << shown.output;
  // The dashboard shows the run's bundle from its blobs.
  ui::DashboardOptions options;
  options.workspace = temp_.path() / "ws";
  ui::Dashboard dashboard(std::move(options));
  const std::string page = "/runs/" + std::to_string(train_run);
  const auto answer = dashboard.handle({"GET", page, "", "", "", ""});
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("id=\"per-class\""), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find("bundle-note"), std::string::npos) << answer.body;
  const auto registered =
      run("models register --run " + std::to_string(train_run) + " --name golden");
  ASSERT_EQ(registered.exit_code, 0) << registered.output;
  EXPECT_EQ(testing::read_text(temp_.path() / "ws/registry/golden/1/forest.json"),
            testing::read_text(local / "model/forest.json"));

  // A second etl replaces the tables' generation and keeps the model's; the
  // old tables' blobs are gone.
  const auto again = run("etl " + remote_config.string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const json next = json::parse(manifest_text("golden"));
  EXPECT_NE(next["parts"]["tables"]["generation"], manifest["parts"]["tables"]["generation"]);
  EXPECT_EQ(next["parts"]["model"], manifest["parts"]["model"]);
  for (const std::string& name : blobs_under("golden/generations/"))
    EXPECT_EQ(name.find(manifest["parts"]["tables"]["generation"].get<std::string>()),
              std::string::npos)
        << name;
}

TEST_F(BlobOutputTest, AMonthOfBlobsOnMpiRanksGivesTheTablesAndForestOfALocalRun) {
  if (const std::string reason = testing::mpi_unavailable_reason(); !reason.empty())
    GTEST_SKIP() << reason;
  // A generated month in the seed's folder layout, as files and as blobs.
  const fs::path data = temp_.path() / "data";
  ASSERT_EQ(testing::run_shell(std::string(LOADCAST_BINARY) + " generate --out " + data.string() +
                               " --size 12M --seed 5 --dirty-rate 0.03"),
            0);
  client_->create_container("month");
  for (const auto& entry : fs::recursive_directory_iterator(data))
    if (entry.is_regular_file())
      client_->put("month", "sessions/" + fs::relative(entry.path(), data).string(),
                   testing::read_text(entry.path()));
  const std::string glob = "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv";
  const auto month_config = [&](const std::string& name, const std::string& data_file,
                                const std::string& output) {
    const fs::path path = temp_.path() / (name + ".json");
    testing::write_text(path, json{{"dataFile", data_file},
                                   {"duration", "ONE_MONTH"},
                                   {"layout", "sessions17"},
                                   {"output", output}}
                                  .dump());
    return path;
  };
  const auto on_ranks = [&](int ranks, const char* command, const fs::path& config) {
    std::string output;
    const int code = testing::run_shell(testing::mpirun_prefix(ranks) + LOADCAST_BINARY + " " +
                                            command + " " + config.string() + " --workspace " +
                                            (temp_.path() / "ws").string() + " 2>&1",
                                        &output);
    EXPECT_EQ(code, 0) << output;
  };
  const auto etl_on_ranks = [&](const fs::path& config) { on_ranks(3, "etl", config); };
  const fs::path local = temp_.path() / "local";
  etl_on_ranks(month_config("local", (data / glob).string(), local.string()));
  etl_on_ranks(month_config("ranks",
                            "wasb://month@devstoreaccount1.blob.core.windows.net/sessions/" + glob,
                            url("ranks")));
  const fs::path fetched_tables = fetched("ranks", kTablesPart, "fetched");
  EXPECT_EQ(testing::output_tables(fetched_tables), testing::output_tables(local));
  EXPECT_EQ(testing::output_accounting(fetched_tables), testing::output_accounting(local));
  std::set<std::string> parts;
  for (const auto& [path, text] : testing::output_tables(fetched_tables))
    parts.insert(fs::path(path).filename().string());
  EXPECT_EQ(parts, (std::set<std::string>{"part-00000.csv", "part-00001.csv", "part-00002.csv"}));

  // train on two ranks reading the blob output grows one process's forest
  // on the local output.
  on_ranks(1, "train", temp_.path() / "local.json");
  on_ranks(2, "train", temp_.path() / "ranks.json");
  const fs::path model = fetched("ranks", kModelPart, "fetched-model");
  EXPECT_EQ(testing::read_text(model / "model/forest.json"),
            testing::read_text(local / "model/forest.json"));
}

TEST_F(BlobOutputTest, ARunThatFailsOrIsKilledWhilePublishingLeavesThePreviousOutput) {
  const std::string out = url("faults");
  const fs::path config = config_for("faults", out);
  const auto first = run("etl " + config.string());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string manifest = manifest_text("faults");
  const std::set<std::string> blobs = blobs_under("faults/");
  const auto tables = testing::output_tables(fetched("faults", kTablesPart, "first"));
  ASSERT_FALSE(tables.empty());

  const auto with_fault = [&](const std::string& env) {
    std::string output;
    const int code = testing::run_shell(
        "TMPDIR=" + (temp_.path() / "killed").string() + " " + env + " " + LOADCAST_FAULTS_BINARY +
            " etl " + config.string() + " --workspace " + (temp_.path() / "ws").string() + " 2>&1",
        &output);
    return std::make_pair(code, output);
  };
  // The manifest cannot be written: the new generation's blobs are removed.
  const auto [failed, failed_output] =
      with_fault("LOADCAST_FAIL_POINT=upload LOADCAST_FAIL_AT=manifest.json");
  EXPECT_EQ(failed, static_cast<int>(ExitCode::kData)) << failed_output;
  EXPECT_NE(failed_output.find("cannot upload blob 'faults/manifest.json'"), std::string::npos)
      << failed_output;
  EXPECT_EQ(manifest_text("faults"), manifest);
  EXPECT_EQ(blobs_under("faults/"), blobs);

  // Killed half way through the upload: what it left is named by nothing.
  const auto [killed, killed_output] = with_fault(
      "LOADCAST_FAIL_POINT=upload LOADCAST_FAIL_AT=etl_summary.json LOADCAST_FAIL_HOW=kill");
  EXPECT_NE(killed, 0) << killed_output;
  EXPECT_EQ(manifest_text("faults"), manifest);
  EXPECT_GT(blobs_under("faults/").size(), blobs.size()) << "the daily store was uploaded";
  EXPECT_EQ(testing::output_tables(fetched("faults", kTablesPart, "after-kill")), tables);

  // The next publish removes unnamed generations that began over a day ago
  // and keeps the recent one (its writer could still be uploading).
  const std::string abandoned = "faults/generations/tables-20200101T000000Z-0badf00d/daily/x.csv";
  client_->put("outputs", abandoned, "left by a run killed long ago\n");
  const std::set<std::string> before = blobs_under("faults/generations/");
  const auto next = run("etl " + config.string());
  ASSERT_EQ(next.exit_code, 0) << next.output;
  const std::set<std::string> after = blobs_under("faults/generations/");
  EXPECT_EQ(after.count(abandoned), 0u);
  std::set<std::string> killed_left;
  const std::string first_generation =
      json::parse(manifest)["parts"]["tables"]["generation"].get<std::string>();
  for (const std::string& name : before)
    if (name != abandoned && name.find(first_generation) == std::string::npos)
      killed_left.insert(name);
  ASSERT_FALSE(killed_left.empty());
  for (const std::string& name : killed_left) EXPECT_EQ(after.count(name), 1u) << name;

  // No output at all: one line naming the URL and what to run.
  BlobOutput nothing(url("nothing"), blob::environment_storage());
  try {
    nothing.fetch(kModelPart, temp_.path() / "nothing");
    ADD_FAILURE() << "fetched a model from an empty prefix";
  } catch (const Failure& f) {
    EXPECT_EQ(f.code(), ExitCode::kData);
    EXPECT_EQ(std::string(f.what()), url("nothing") +
                                         " holds no loadcast output (no manifest.json; run "
                                         "'loadcast train' with this output first)");
  }
  const auto train = run("train " + config_for("nothing", url("nothing")).string());
  EXPECT_EQ(train.exit_code, static_cast<int>(ExitCode::kData)) << train.output;
  EXPECT_NE(train.output.find("holds no loadcast output (no manifest.json; run 'loadcast etl'"),
            std::string::npos)
      << train.output;
}

}  // namespace
}  // namespace loadcast
