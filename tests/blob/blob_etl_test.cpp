// Blob storage against the real emulator (Azurite on loopback): the client's
// requests; etl reading blobs in the seed's folder layout gives the same
// bytes in every table and the same line accounting as the same files read
// locally, with 1 and 2 threads and on 3 ranks, with Shared Key, a SAS token
// or the connection string; busy answers, connections cut mid-read and an
// emulator stopped and restarted are retried and change nothing; a wrong key, a missing container,
// a glob with no match and a service that does not answer are each one line naming what failed, and
// no key or token reaches any output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "blob/client.h"
#include "blob/signing.h"
#include "common/url.h"
#include "config/config.h"
#include "etl/etl.h"
#include "support/azurite.h"
#include "support/csv.h"
#include "support/outputs.h"
#include "support/program.h"
#include "support/thread_communicator.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using testing::Azurite;

constexpr const char* kSeedGlob = "20[0,1][0-9]/[0,1][0-9]/[a,b]/[0-6]/request.csv";

// "" when both outputs hold the same table files with the same bytes, else
// the first difference.
std::string difference(const fs::path& expected, const fs::path& actual) {
  const auto a = testing::output_tables(expected);
  const auto b = testing::output_tables(actual);
  if (a.empty()) return "no tables under " + expected.string();
  for (const auto& [path, text] : a) {
    const auto it = b.find(path);
    if (it == b.end()) return path + " is missing";
    if (it->second != text) return path + " differs";
  }
  if (b.size() != a.size()) return "other files: " + std::to_string(b.size()) + " tables";
  return "";
}

// An account SAS of the emulator's account for reading and listing blobs.
std::string account_sas() {
  const std::string version = "2019-12-12";
  const std::string sign = std::string(blob::kDevelopmentAccount) + "\nrl\nb\nsco\n\n" +
                           "2099-01-01T00:00:00Z\n\nhttp,https\n" + version + "\n";
  const std::string key = *blob::base64_decode(blob::kDevelopmentKey);
  return "sv=" + version + "&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&spr=http,https&sig=" +
         url_encode(blob::base64_encode(blob::hmac_sha256(key, sign)));
}

class BlobTest : public testing::AzuriteSuite {
 protected:
  // Uploads every file under `dir` as `prefix` + its relative path.
  void upload(const std::string& container, const fs::path& dir, const std::string& prefix) {
    client_->create_container(container);
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file())
        client_->put(container, prefix + fs::relative(entry.path(), dir).string(),
                     testing::read_text(entry.path()));
  }

  // The golden configuration reading `data_file`, written as JSON fields.
  Config golden_config(const std::string& data_file, const std::string& storage) {
    auto j =
        nlohmann::json::parse(testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "config.json"));
    j["dataFile"] = data_file;
    const auto fields = nlohmann::json::parse("{" + storage + "}");
    for (const auto& [k, v] : fields.items()) j[k] = v;
    return parse_config(j.dump(), fs::path(LOADCAST_GOLDEN_DIR) / "config.json",
                        temp_.path() / "out");
  }

  std::string emulator_fields(const std::string& endpoint = "") const {
    return std::string(R"("storageAccount": "devstoreaccount1", "storageKey": ")") +
           blob::kDevelopmentKey + R"(", "blobEndpoint": ")" +
           (endpoint.empty() ? azurite_->endpoint() : endpoint) + "\"";
  }

  // Generated sessions of a month in the seed's layout, uploaded to
  // container `month`; returns their local folder.
  fs::path generated_month() {
    const fs::path data = temp_.path() / "data";
    EXPECT_EQ(testing::run_shell(std::string(LOADCAST_BINARY) + " generate --out " + data.string() +
                                 " --size 12M --seed 5 --dirty-rate 0.03"),
              0);
    upload("month", data, "sessions/");
    return data;
  }

  Config month_config(const fs::path& data, const std::string& data_file,
                      const std::string& storage, const std::string& out) {
    const std::string text = R"({"dataFile": ")" + data_file +
                             R"(", "duration": "ONE_MONTH", "layout": "sessions17")" +
                             (storage.empty() ? "" : ", " + storage) + "}";
    return parse_config(text, data / "config.json", temp_.path() / out);
  }

  testing::TempDir temp_;
};

TEST_F(BlobTest, TheClientPutsListsReadsAndRemovesBlobs) {
  client_->create_container("cone");
  client_->create_container("cone");  // again: fine
  std::string big(9 * (size_t{1} << 20) + 123, '\0');
  std::mt19937_64 random(3);
  for (char& c : big) c = static_cast<char>(random());
  client_->put("cone", "a/big.bin", big);  // three blocks
  client_->put("cone", "a/small.csv", "x,y\n");
  client_->put("cone", "b/other", "");

  const auto all = client_->list("cone", "", 1);  // one name a page: markers
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "a/big.bin");
  EXPECT_EQ(all[0].bytes, static_cast<int64_t>(big.size()));
  EXPECT_EQ(all[2].name, "b/other");
  EXPECT_EQ(all[2].bytes, 0);
  EXPECT_EQ(client_->list("cone", "a/").size(), 2u);

  for (const auto& [offset, length] : std::vector<std::pair<size_t, size_t>>{
           {0, big.size()}, {1, 5}, {(size_t{1} << 20) - 1, 3 << 20}, {big.size() - 10, 100}}) {
    std::string got(length, '\0');
    const size_t n =
        client_->read("cone", "a/big.bin", static_cast<int64_t>(offset), length, got.data());
    const size_t expected = std::min(length, big.size() - offset);
    ASSERT_EQ(n, expected) << offset;
    EXPECT_EQ(got.substr(0, n), big.substr(offset, n)) << offset;
  }
  char byte = 0;
  EXPECT_EQ(client_->read("cone", "a/big.bin", static_cast<int64_t>(big.size()), 1, &byte), 0u);
  EXPECT_EQ(client_->size_of("cone", "a/small.csv"), 4);
  client_->remove("cone", "a/small.csv");
  client_->remove("cone", "a/small.csv");  // gone already: fine
  EXPECT_EQ(client_->size_of("cone", "a/small.csv"), std::nullopt);
}

TEST_F(BlobTest, TheGoldenCaseFromABlobGivesTheLocalTables) {
  upload("golden", fs::path(LOADCAST_GOLDEN_DIR) / "input", "input/");
  const Config local =
      golden_config((fs::path(LOADCAST_GOLDEN_DIR) / "input/request.csv").string(), "");
  run_etl(local, EtlOptions{});
  const fs::path expected = temp_.path() / "expected";
  fs::rename(local.output, expected);
  for (const int threads : {1, 2}) {
    const Config remote = golden_config(
        "wasb://golden@devstoreaccount1.blob.core.windows.net/input/*.csv", emulator_fields());
    EtlOptions options;
    options.threads = threads;
    options.chunk_bytes = 4096;  // many chunks, lines cut at their edges
    const EtlReport report = run_etl(remote, options);
    EXPECT_EQ(report.summary["files"],
              nlohmann::json::array(
                  {"https://devstoreaccount1.blob.core.windows.net/golden/input/request.csv"}));
    EXPECT_EQ(difference(expected, remote.output), "") << threads << " threads";
    EXPECT_EQ(testing::output_accounting(remote.output), testing::output_accounting(expected));
  }
}

TEST_F(BlobTest, AMonthInTheSeedsLayoutGivesTheLocalTablesOnThreadsAndRanks) {
  const fs::path data = generated_month();
  EtlOptions options;
  options.threads = 2;
  options.chunk_bytes = size_t{1} << 20;
  const Config local = month_config(data, kSeedGlob, "", "local");
  run_etl(local, options);

  const std::string url =
      azurite_->endpoint() + "/month/sessions/" + std::string(kSeedGlob);  // path-style
  const Config remote = month_config(data, url, emulator_fields(), "remote");
  const EtlReport report = run_etl(remote, options);
  EXPECT_EQ(report.blob.retries, 0);
  EXPECT_GT(report.blob.requests, 0);
  EXPECT_EQ(report.summary["blob"]["requests"], report.blob.requests);
  EXPECT_EQ(difference(local.output, remote.output), "");
  EXPECT_EQ(testing::output_accounting(remote.output), testing::output_accounting(local.output));

  // Three ranks, each reading its own byte ranges of the blobs, write the
  // part files of three ranks reading the local files.
  const Config local_ranks = month_config(data, kSeedGlob, "", "local-ranks");
  const Config ranks = month_config(data, url, emulator_fields(), "ranks");
  for (const Config* config : {&local_ranks, &ranks})
    testing::run_ranks(3, [&](dist::Communicator& comm) { run_etl(*config, options, comm); });
  EXPECT_EQ(difference(local_ranks.output, ranks.output), "");
}

TEST_F(BlobTest, ASasTokenOrTheConnectionStringReadsAndNoSecretReachesAnOutput) {
  const fs::path data = generated_month();
  const fs::path workspace = temp_.path() / "ws";
  const std::string wasb =
      "wasb://month@devstoreaccount1.blob.core.windows.net/sessions/" + std::string(kSeedGlob);
  const std::string sas = account_sas();
  const std::string sig = sas.substr(sas.find("sig=") + 4);
  const auto run = [&](const std::string& fields, const std::string& env, const char* out) {
    const fs::path config = temp_.path() / (std::string(out) + ".json");
    testing::write_text(config, R"({"dataFile": ")" + wasb +
                                    R"(", "duration": "ONE_MONTH", "output": ")" +
                                    (temp_.path() / out).string() + "\"" + fields + "}");
    return testing::run_program("etl " + config.string() + " --workspace " + workspace.string(),
                                env);
  };
  const std::string endpoint = R"(, "blobEndpoint": ")" + azurite_->endpoint() + "\"";
  const auto by_sas = run(R"(, "sasToken": ")" + sas + "\"" + endpoint, "", "sas");
  ASSERT_EQ(by_sas.exit_code, 0) << by_sas.output;
  const auto by_env = run(endpoint, "LOADCAST_STORAGE_SAS='" + sas + "'", "env");
  ASSERT_EQ(by_env.exit_code, 0) << by_env.output;
  const auto by_connection =
      run("", "AZURE_STORAGE_CONNECTION_STRING='" + azurite_->connection_string() + "'", "conn");
  ASSERT_EQ(by_connection.exit_code, 0) << by_connection.output;

  const Config local = month_config(data, kSeedGlob, "", "local");
  run_etl(local, EtlOptions{});
  for (const char* out : {"sas", "env", "conn"})
    EXPECT_EQ(difference(local.output, temp_.path() / out), "") << out;

  // Neither the token's signature nor the key in what was printed, the
  // outputs or the run history.
  std::string everything = by_sas.output + by_env.output + by_connection.output;
  for (const char* dir : {"sas", "env", "conn", "ws"})
    for (const auto& entry : fs::recursive_directory_iterator(temp_.path() / dir))
      if (entry.is_regular_file()) everything += testing::read_text(entry.path());
  EXPECT_EQ(everything.find(sig), std::string::npos);
  EXPECT_EQ(everything.find(url_decode(sig)), std::string::npos);
  EXPECT_EQ(everything.find(blob::kDevelopmentKey), std::string::npos);
  EXPECT_NE(everything.find("month/sessions"), std::string::npos);  // the URL is recorded
}

TEST_F(BlobTest, BusyAnswersAndConnectionsCutMidReadAreRetriedAndChangeNothing) {
  const fs::path data = generated_month();
  EtlOptions options;
  options.threads = 2;
  const Config local = month_config(data, kSeedGlob, "", "local");
  run_etl(local, options);

  testing::UnreliableProxy proxy(azurite_->port(), int64_t{256} << 10, 3, 2);
  const std::string endpoint =
      "http://127.0.0.1:" + std::to_string(proxy.port()) + "/" + blob::kDevelopmentAccount;
  const Config remote = month_config(
      data,
      "wasb://month@devstoreaccount1.blob.core.windows.net/sessions/" + std::string(kSeedGlob),
      emulator_fields(endpoint), "remote");
  const EtlReport report = run_etl(remote, options);
  EXPECT_EQ(proxy.cuts_made(), 3);
  EXPECT_EQ(proxy.busy_answers(), 2);
  EXPECT_EQ(report.blob.retries, 5);  // each busy answer and each cut read once more
  EXPECT_GE(report.blob.bytes_read, report.accounting.bytes);
  EXPECT_EQ(difference(local.output, remote.output), "");
  EXPECT_EQ(testing::output_accounting(remote.output), testing::output_accounting(local.output));
}

TEST_F(BlobTest, AnEmulatorStoppedAndRestartedDuringTheRunChangesNothing) {
  // An emulator of its own, keeping its blobs on disk across the restart.
  const fs::path data = temp_.path() / "data";
  ASSERT_EQ(testing::run_shell(std::string(LOADCAST_BINARY) + " generate --out " + data.string() +
                               " --size 12M --seed 5"),
            0);
  Azurite own(temp_.path() / "azurite");
  blob::Client client(own.service());
  client.create_container("month");
  for (const auto& entry : fs::recursive_directory_iterator(data))
    if (entry.is_regular_file())
      client.put("month", "sessions/" + fs::relative(entry.path(), data).string(),
                 testing::read_text(entry.path()));
  const Config local = month_config(data, kSeedGlob, "", "local");
  run_etl(local, EtlOptions{});

  const fs::path config = temp_.path() / "restart.json";
  testing::write_text(
      config, R"({"dataFile": "wasb://month@devstoreaccount1.blob.core.windows.net/sessions/)" +
                  std::string(kSeedGlob) + R"(", "duration": "ONE_MONTH", "output": ")" +
                  (temp_.path() / "remote").string() + R"(", )" + emulator_fields(own.endpoint()) +
                  R"(, "blobRetries": 9})");
  own.stop();
  testing::ProgramOutcome outcome;
  std::thread run([&] { outcome = testing::run_program("etl " + config.string()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the run is retrying by now
  own.start();
  run.join();
  ASSERT_EQ(outcome.exit_code, 0) << outcome.output;
  const auto summary =
      nlohmann::json::parse(testing::read_text(temp_.path() / "remote/etl_summary.json"));
  EXPECT_GE(summary["blob"]["retries"].get<int>(), 1) << summary["blob"];
  EXPECT_NE(outcome.output.find("retries)"), std::string::npos) << outcome.output;
  EXPECT_EQ(difference(local.output, temp_.path() / "remote"), "");
  EXPECT_EQ(testing::output_accounting(temp_.path() / "remote"),
            testing::output_accounting(local.output));
}

TEST_F(BlobTest, EachFailureIsOneLineNamingWhatFailedAndTheDataExitCode) {
  upload("golden", fs::path(LOADCAST_GOLDEN_DIR) / "input", "input/");
  const std::string wrong_key = blob::base64_encode(std::string(64, 'k'));
  const int closed_port = testing::free_loopback_port();
  struct Case {
    std::string url;
    std::string fields;
    std::string message;
  };
  const std::string good = "wasb://golden@devstoreaccount1.blob.core.windows.net/input/*.csv";
  const std::vector<Case> cases = {
      {good,
       R"("storageAccount": "devstoreaccount1", "storageKey": ")" + wrong_key +
           R"(", "blobEndpoint": ")" + azurite_->endpoint() + "\"",
       "blob storage refused access to container 'golden' of account 'devstoreaccount1' (403"},
      {"wasb://nope@devstoreaccount1.blob.core.windows.net/input/*.csv", emulator_fields(),
       "account 'devstoreaccount1' has no container 'nope'"},
      {"wasb://golden@devstoreaccount1.blob.core.windows.net/input/*.txt", emulator_fields(),
       "no blob matches dataFile"},
      {good,
       emulator_fields("http://127.0.0.1:" + std::to_string(closed_port) + "/devstoreaccount1") +
           R"(, "blobRetries": 1)",
       "blob storage at http://127.0.0.1:" + std::to_string(closed_port) +
           "/devstoreaccount1 failed for container 'golden' of account 'devstoreaccount1'"},
  };
  for (const Case& c : cases) {
    auto j =
        nlohmann::json::parse(testing::read_text(fs::path(LOADCAST_GOLDEN_DIR) / "config.json"));
    j["dataFile"] = c.url;
    const auto fields = nlohmann::json::parse("{" + c.fields + "}");
    for (const auto& [k, v] : fields.items()) j[k] = v;
    j["output"] = (temp_.path() / "out").string();
    testing::write_text(temp_.path() / "config.json", j.dump());
    const auto outcome = testing::run_program("etl " + (temp_.path() / "config.json").string());
    EXPECT_EQ(outcome.exit_code, 3) << outcome.output;
    EXPECT_NE(outcome.output.find(c.message), std::string::npos) << outcome.output;
    const std::string error = outcome.output.substr(outcome.output.find("loadcast etl:"));
    EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
    EXPECT_EQ(outcome.output.find(wrong_key), std::string::npos);
    EXPECT_EQ(outcome.output.find(blob::kDevelopmentKey), std::string::npos);
  }
}

}  // namespace
}  // namespace loadcast
