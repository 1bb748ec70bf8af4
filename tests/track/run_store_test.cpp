// The run store: schema creation, migration from an older version, dead-run
// reaping, secret masking, and the SHA-256 it records artifacts with.
#include "track/run_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/sha256.h"
#include "support/csv.h"
#include "track/recorder.h"

namespace loadcast::track {
namespace {

namespace fs = std::filesystem;

bool has_table(RunStore& store, const std::string& name) {
  auto s = store.database().prepare(
      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, name);
  s.step();
  return s.integer(0) == 1;
}

bool has_column(RunStore& store, const std::string& table, const std::string& column) {
  auto s = store.database().prepare("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?");
  s.bind(1, table).bind(2, column);
  s.step();
  return s.integer(0) == 1;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TreeHashSeesRenamesAndEdits) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "a.json", "{}");
  testing::write_text(dir.path() / "sub" / "b.json", "[1]");
  const auto before = sha256_tree(dir.path());
  EXPECT_EQ(before.bytes, 5u);
  fs::rename(dir.path() / "a.json", dir.path() / "c.json");
  const auto renamed = sha256_tree(dir.path());
  EXPECT_NE(renamed.sha256, before.sha256);
  fs::rename(dir.path() / "c.json", dir.path() / "a.json");
  EXPECT_EQ(sha256_tree(dir.path()).sha256, before.sha256);
  testing::write_text(dir.path() / "a.json", "{ }");
  EXPECT_NE(sha256_tree(dir.path()).sha256, before.sha256);
}

TEST(RunStore, CreatesTheLatestSchema) {
  testing::TempDir dir;
  auto store = RunStore::open(dir.path() / "ws");
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  for (const char* table :
       {"schema_version", "runs", "params", "metrics", "artifacts", "model_versions"})
    EXPECT_TRUE(has_table(*store, table)) << table;
  EXPECT_TRUE(fs::exists(dir.path() / "ws" / RunStore::kFileName));
  auto mode = store->database().prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
}

TEST(RunStore, MigratesAVersionOneStoreKeepingItsRuns) {
  testing::TempDir dir;
  {
    auto old = RunStore::open(dir.path(), true, 1);
    ASSERT_EQ(old->schema_version(), 1);
    EXPECT_FALSE(has_column(*old, "runs", "pid"));
    EXPECT_FALSE(has_table(*old, "model_versions"));
    // What a version-1 build wrote.
    old->database().exec(
        "INSERT INTO runs (command, arguments, config, ranks, threads, host, started_at, ended_at, "
        "duration_s, status) "
        "VALUES ('etl', '[\"c.json\"]', '{\"storageKey\":\"***\"}', 1, 4, 'h', 1000.0, 1002.5, "
        "2.5, 'finished');"
        "INSERT INTO metrics (run_id, name, value, step) VALUES (1, 'accepted', 42, 0);"
        "INSERT INTO artifacts (run_id, path, bytes, sha256) VALUES (1, '/x/etl_summary.json', 10, "
        "'ab');");
  }
  auto store = RunStore::open(dir.path());
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  EXPECT_TRUE(has_column(*store, "runs", "pid"));
  EXPECT_TRUE(has_column(*store, "artifacts", "kind"));
  EXPECT_TRUE(has_table(*store, "model_versions"));
  EXPECT_TRUE(has_column(*store, "runs", "parent_id"));
  const auto run = store->find_run(1);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->parent, 0);  // an old run is a run of its own
  EXPECT_EQ(store->list_runs().size(), 1u);
  EXPECT_EQ(run->command, "etl");
  EXPECT_EQ(run->status, "finished");
  EXPECT_EQ(run->threads, 4);
  EXPECT_EQ(run->arguments, std::vector<std::string>{"c.json"});
  ASSERT_EQ(run->metrics.size(), 1u);
  EXPECT_EQ(run->metrics[0].value, 42);
  ASSERT_EQ(run->artifacts.size(), 1u);
  EXPECT_EQ(run->artifacts[0].kind, "file");
  // New runs go on numbering after the old ones.
  EXPECT_EQ(store->begin_run(NewRun{.command = "train"}), 2);
}

TEST(RunStore, RefusesASchemaFromTheFuture) {
  testing::TempDir dir;
  RunStore::open(dir.path())->database().exec("UPDATE schema_version SET version = 99");
  try {
    RunStore::open(dir.path());
    FAIL() << "expected a failure";
  } catch (const Failure& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST(RunStore, RunOfADeadProcessIsMarkedFailedOnOpen) {
  testing::TempDir dir;
  const pid_t child = fork();
  if (child == 0) _exit(0);
  NewRun run{.command = "etl"};
  run.process.pid = child;
  int status = 0;
  waitpid(child, &status, 0);  // now that pid is gone (or reused by another process)
  int64_t dead_id = 0;
  int64_t live_id = 0;
  {
    auto store = RunStore::open(dir.path());
    dead_id = store->begin_run(run);
    live_id = store->begin_run(NewRun{.command = "train"});  // this process: alive
  }
  auto store = RunStore::open(dir.path());
  const auto dead = store->find_run(dead_id);
  EXPECT_EQ(dead->status, "failed");
  EXPECT_NE(dead->error.find("ended without recording a result"), std::string::npos) << dead->error;
  EXPECT_TRUE(dead->ended_at.has_value());
  EXPECT_EQ(store->find_run(live_id)->status, "running");
}

TEST(Recorder, MasksSecretsAtAnyDepth) {
  const auto masked = mask_secrets(nlohmann::json::parse(
      R"({"storageKey": "s1", "storageAccount": "acct", "nested": {"authorization": "Bearer s2", "keys": ["s3"]},
          "list": [{"primaryKey": "s4"}], "threads": 2})"));
  EXPECT_EQ(masked["storageKey"], "***");
  EXPECT_EQ(masked["storageAccount"], "acct");
  EXPECT_EQ(masked["nested"]["authorization"], "***");
  EXPECT_EQ(masked["nested"]["keys"], "***");
  EXPECT_EQ(masked["list"][0]["primaryKey"], "***");
  EXPECT_EQ(masked["threads"], 2);
}

TEST(Recorder, RecordsAFinishedRunWithoutItsSecrets) {
  testing::TempDir dir;
  const fs::path config = dir.path() / "config.json";
  testing::write_text(config, R"({"storageKey": "hunter2-secret", "dataFile": "x.csv"})");
  testing::write_text(dir.path() / "out.txt", "hello");
  int64_t id = 0;
  {
    RunRecorder run(
        {dir.path() / "ws", "etl", {"config.json", "--note", "hunter2-secret"}, config, 3});
    ASSERT_TRUE(run.active());
    id = run.id();
    run.param("p", "v");
    run.metric("accepted", 7);
    run.metric("loss", 0.5, 2);
    run.artifact("out", dir.path() / "out.txt");
    run.artifact("missing", dir.path() / "nope");
    run.finish();
  }
  auto store = RunStore::open(dir.path() / "ws");
  const auto r = store->find_run(id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "finished");
  EXPECT_EQ(r->threads, 3);
  EXPECT_EQ(r->config["storageKey"], "***");
  EXPECT_EQ(r->arguments[2], "***");
  EXPECT_EQ(r->params.at("p"), "v");
  ASSERT_EQ(r->metrics.size(), 2u);
  ASSERT_EQ(r->artifacts.size(), 1u);
  EXPECT_EQ(r->artifacts[0].bytes, 5u);
  EXPECT_EQ(r->artifacts[0].sha256, sha256_hex("hello"));
  EXPECT_EQ(r->config.dump().find("hunter2"), std::string::npos);
}

TEST(Recorder, ChildRunsArePartOfTheirRunAndOutOfTheTopLevelList) {
  testing::TempDir dir;
  int64_t parent = 0;
  int64_t child = 0;
  {
    RunRecorder run({dir.path() / "ws", "tune", {"c.json"}, {}, 2});
    parent = run.id();
    child = run.child("trial", {{"trial", "0"}, {"forest.maxDepth", "6"}},
                      {{"validation.accuracy", 0.75, 0}, {"validation.accuracy", 0.8, 1}}, 2.5);
    run.child("trial", {{"trial", "1"}}, {}, 1.0);
    run.finish();
  }
  EXPECT_GT(child, parent);
  auto store = RunStore::open(dir.path() / "ws");
  const auto top = store->list_runs();
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].id, parent);
  EXPECT_EQ(store->count_runs(), 1);
  EXPECT_EQ(store->commands(), std::vector<std::string>{"tune"});
  RunFilter children;
  children.parent = parent;
  const auto trials = store->list_runs(children);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(store->count_runs(children), 2);
  const auto r = store->find_run(child);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->parent, parent);
  EXPECT_EQ(r->command, "trial");
  EXPECT_EQ(r->status, "finished");
  EXPECT_EQ(r->threads, 2);
  EXPECT_EQ(r->params.at("forest.maxDepth"), "6");
  ASSERT_EQ(r->metrics.size(), 2u);
  EXPECT_EQ(r->metrics[1].step, 1);
  EXPECT_EQ(r->metrics[1].value, 0.8);
  ASSERT_TRUE(r->duration_seconds);
  EXPECT_NEAR(*r->duration_seconds, 2.5, 0.5);
  EXPECT_EQ(store->find_run(parent)->parent, 0);
}

TEST(Recorder, AnUnfinishedRunIsRecordedFailed) {
  testing::TempDir dir;
  int64_t id = 0;
  {
    RunRecorder run({dir.path(), "train", {}, {}, 1});
    id = run.id();
  }
  EXPECT_EQ(RunStore::open(dir.path())->find_run(id)->status, "failed");
}

TEST(Recorder, AnUnusableWorkspaceOnlyWarns) {
  testing::TempDir dir;
  testing::write_text(dir.path() / "file", "not a folder");
  ::testing::internal::CaptureStderr();
  {
    RunRecorder run({dir.path() / "file", "etl", {}, {}, 1});
    EXPECT_FALSE(run.active());
    run.metric("x", 1);
    run.finish();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning: run history disabled"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
}

}  // namespace
}  // namespace loadcast::track
