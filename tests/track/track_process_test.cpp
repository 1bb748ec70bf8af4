// The run history through the program: concurrent runs, a killed run, secrets
// kept out of the workspace, failed commands, `runs`, `models` and `submit`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/csv.h"
#include "support/program.h"
#include "track/registry.h"
#include "track/run_store.h"

namespace loadcast::track {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigSecret = "CfgSecret-7f3a9q";
constexpr const char* kEnvSecret = "EnvSecret-k2v8m1";

using testing::ProgramOutcome;

ProgramOutcome run(const std::string& args, const std::string& env = "") {
  return testing::run_program(args, env);
}

// Starts the program with `args`; stdin from `stdin_fd` when >= 0.
pid_t spawn(const std::vector<std::string>& args, int stdin_fd = -1) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO);
    const int null_fd = ::open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    std::vector<std::string> all = {LOADCAST_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class TrackProcessTest : public ::testing::Test {
 protected:
  // The golden case's configuration with an absolute dataFile and a recognizable secret.
  fs::path config(const std::string& data_file = std::string(LOADCAST_GOLDEN_DIR) +
                                                 "/input/request.csv") {
    std::ifstream in(std::string(LOADCAST_GOLDEN_DIR) + "/config.json");
    auto json = nlohmann::json::parse(in);
    json["dataFile"] = data_file;
    json["storageKey"] = kConfigSecret;
    const fs::path path = dir_.path() / ("config" + std::to_string(++configs_) + ".json");
    testing::write_text(path, json.dump(2));
    return path;
  }
  std::string ws() const { return (dir_.path() / "ws").string(); }
  std::string out(const std::string& name) const { return (dir_.path() / name).string(); }
  std::unique_ptr<RunStore> store() { return RunStore::open(ws(), false); }

  testing::TempDir dir_;
  int configs_ = 0;
};

TEST_F(TrackProcessTest, TwoConcurrentRunsAreBothRecordedFinished) {
  const std::string cfg = config().string();
  const pid_t a = spawn({"etl", cfg, "--output", out("a"), "--workspace", ws(), "--threads", "1"});
  const pid_t b = spawn({"etl", cfg, "--output", out("b"), "--workspace", ws(), "--threads", "1"});
  EXPECT_EQ(wait_exit(a), 0);
  EXPECT_EQ(wait_exit(b), 0);
  const auto runs = store()->list_runs();
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& listed : runs) {
    const auto r = *store()->find_run(listed.id);
    EXPECT_EQ(r.command, "etl");
    EXPECT_EQ(r.status, "finished") << r.error;
    EXPECT_EQ(r.threads, 1);
    EXPECT_TRUE(r.duration_seconds.has_value());
    std::map<std::string, double> metrics;
    for (const auto& m : r.metrics) metrics[m.name] = m.value;
    EXPECT_EQ(metrics["lines"], 52);
    EXPECT_EQ(metrics["accepted"], 44);
    EXPECT_EQ(metrics["rejected.bad_server_ip"], 2);
    EXPECT_GT(metrics["bytes"], 0);
    bool summary = false;
    for (const auto& art : r.artifacts)
      summary |= art.name == "etl_summary" && art.sha256.size() == 64;
    EXPECT_TRUE(summary);
  }
}

TEST_F(TrackProcessTest, AKilledRunShowsAsFailed) {
  const std::string cfg = config("-").string();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = spawn({"etl", cfg, "--output", out("killed"), "--workspace", ws()}, fds[0]);
  close(fds[0]);
  // The write end stays open: the ETL waits for more input forever.
  ASSERT_GT(write(fds[1], "x\n", 2), 0);
  bool running = false;
  for (int i = 0; i < 200 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (!fs::exists(fs::path(ws()) / RunStore::kFileName)) continue;
    for (const auto& r : store()->list_runs()) running |= r.status == "running";
  }
  ASSERT_TRUE(running) << "the etl run never showed as running";
  kill(child, SIGKILL);
  EXPECT_EQ(wait_exit(child), 128 + SIGKILL);
  close(fds[1]);
  const auto runs = store()->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  EXPECT_NE(runs[0].error.find("killed or crashed"), std::string::npos) << runs[0].error;
  const auto listed = run("runs list --status failed --workspace " + ws());
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("failed"), std::string::npos) << listed.output;
}

TEST_F(TrackProcessTest, SecretsNeverReachTheWorkspaceOrTheLogs) {
  const std::string env = std::string("LOADCAST_STORAGE_KEY=") + kEnvSecret;
  const auto etl =
      run("etl " + config().string() + " --output " + out("o") + " --workspace " + ws(), env);
  ASSERT_EQ(etl.exit_code, 0) << etl.output;
  const auto failing = run(
      "etl " + config("nothing/*.csv").string() + " --output " + out("f") + " --workspace " + ws(),
      env);
  EXPECT_EQ(failing.exit_code, 3);
  std::string logs = etl.output + failing.output;
  for (const char* args : {"runs list", "runs show 1", "runs show 2 --format json",
                           "runs list --format csv", "runs compare 1 2"}) {
    const auto shown = run(std::string(args) + " --workspace " + ws());
    EXPECT_EQ(shown.exit_code, 0) << args << ": " << shown.output;
    logs += shown.output;
  }
  EXPECT_NE(logs.find("\"storageKey\": \"***\""), std::string::npos);
  for (const char* secret : {kConfigSecret, kEnvSecret}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << secret;
    for (const auto& entry : fs::recursive_directory_iterator(ws())) {
      if (!entry.is_regular_file()) continue;
      EXPECT_EQ(testing::read_text(entry.path()).find(secret), std::string::npos)
          << secret << " in " << entry.path();
    }
  }
}

TEST_F(TrackProcessTest, AFailingCommandIsRecordedWithItsError) {
  const auto failed = run("etl " + config("nothing/*.csv").string() + " --output " + out("f") +
                          " --workspace " + ws());
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_NE(failed.output.find("no input file matches"), std::string::npos);
  EXPECT_EQ(failed.output.find("warning"), std::string::npos) << failed.output;
  const auto runs = store()->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  EXPECT_NE(runs[0].error.find("no input file matches"), std::string::npos);
}

TEST_F(TrackProcessTest, AnUnusableWorkspaceWarnsOnceAndTheCommandRuns) {
  testing::write_text(dir_.path() / "blocker", "a file, not a folder");
  const auto etl = run("etl " + config().string() + " --output " + out("o") + " --workspace " +
                       (dir_.path() / "blocker").string());
  EXPECT_EQ(etl.exit_code, 0) << etl.output;
  EXPECT_NE(etl.output.find("warning: run history disabled"), std::string::npos) << etl.output;
  EXPECT_NE(etl.output.find("lines 52: accepted 44"), std::string::npos) << etl.output;
}

TEST_F(TrackProcessTest, TrainRegisterPromoteAndResolveThroughTheProgram) {
  const std::string cfg = config().string();
  const std::string common = " --output " + out("o") + " --workspace " + ws();
  ASSERT_EQ(run("etl " + cfg + common).exit_code, 0);
  ASSERT_EQ(run("train " + cfg + common + " --threads 1").exit_code, 0);
  auto compare = run("runs compare 1 2 --format json --workspace " + ws());
  ASSERT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_NE(compare.output.find("test.accuracy"), std::string::npos);
  auto reg = run("models register --run 2 --name fleet --workspace " + ws());
  ASSERT_EQ(reg.exit_code, 0) << reg.output;
  EXPECT_NE(reg.output.find("registered fleet version 1"), std::string::npos) << reg.output;
  EXPECT_EQ(run("models register --run 1 --name fleet --workspace " + ws()).exit_code, 2);
  ASSERT_EQ(run("models promote fleet 1 --stage production --workspace " + ws()).exit_code, 0);
  const auto listed = run("models list --workspace " + ws());
  EXPECT_NE(listed.output.find("production"), std::string::npos) << listed.output;
  const fs::path bundle = resolve_model_reference(ws(), "fleet@production");
  EXPECT_TRUE(fs::exists(bundle / "info.json"));
  testing::write_text(bundle / "info.json", "{}");
  const auto shown = run("models show fleet@production --workspace " + ws());
  EXPECT_NE(shown.output.find("content check: FAILED"), std::string::npos) << shown.output;
  EXPECT_EQ(shown.exit_code, 3) << shown.output;
  const auto serve = run("serve --no-auth --port 0 --model fleet@production --workspace " + ws());
  EXPECT_EQ(serve.exit_code, 3) << serve.output;
  EXPECT_NE(serve.output.find("modified after registration"), std::string::npos) << serve.output;
}

TEST_F(TrackProcessTest, SubmitToALocalTargetRecordsTheTarget) {
  fs::create_directories(ws());
  testing::write_text(fs::path(ws()) / "targets.json",
                      R"({"quick": {"kind": "local", "threads": 1},
                          "cluster": {"kind": "mpi", "np": 2, "mpirun": "no-such-mpirun-here", "args": ["--oversubscribe"]}})");
  const auto submitted = run("submit --target quick --workspace " + ws() + " -- etl " +
                             config().string() + " --output " + out("o"));
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  EXPECT_NE(submitted.output.find("lines 52: accepted 44"), std::string::npos) << submitted.output;
  const auto runs = store()->list_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].target, "quick");
  EXPECT_EQ(runs[0].threads, 1);
  EXPECT_EQ(runs[0].ranks, 1);
  EXPECT_EQ(runs[0].status, "finished");

  const auto mpi =
      run("submit --target cluster --workspace " + ws() + " -- etl " + config().string());
  EXPECT_EQ(mpi.exit_code, 2);
  EXPECT_NE(mpi.output.find("'no-such-mpirun-here' not found"), std::string::npos) << mpi.output;
  const auto unknown = run("submit --target nowhere --workspace " + ws() + " -- etl x.json");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown target 'nowhere'"), std::string::npos) << unknown.output;
  EXPECT_EQ(run("submit --target quick --workspace " + ws()).exit_code, 2);
}

TEST_F(TrackProcessTest, NewSubcommandsExplainThemselves) {
  for (const char* sub : {"runs", "models", "submit", "etl", "train"}) {
    const auto help = run(std::string(sub) + " --help");
    EXPECT_EQ(help.exit_code, 0) << sub;
    EXPECT_NE(help.output.find("--workspace"), std::string::npos) << sub;
  }
  EXPECT_NE(run("--help").output.find("submit"), std::string::npos);
  EXPECT_EQ(run("runs frobnicate --workspace " + ws()).exit_code, 2);
  EXPECT_EQ(run("runs list --workspace " + ws()).exit_code, 0);  // nothing recorded yet: empty
  EXPECT_EQ(run("runs show 7 --workspace " + ws()).exit_code, 3);
}

}  // namespace
}  // namespace loadcast::track
