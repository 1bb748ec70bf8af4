// The run history of docs/operations.md: <workspace>/runs.db, an SQLite database with a
// versioned schema (migrations N -> N+1), one row per etl/train/score run with
// its parameters, metrics and artifacts. Safe for concurrent processes (WAL,
// busy timeout); runs whose process died are marked failed on the next open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "track/sqlite.h"

namespace loadcast::track {

// Version 1: runs, params, metrics, artifacts. Version 2: process identity of
// a run (pid, boot id, start ticks) and artifact name/kind. Version 3: the
// model registry (model_versions). Version 4: artifacts indexed by run.
// Version 5: a run's parent (the trials of a tuning run).
inline constexpr int kSchemaVersion = 5;

enum class RunStatus { kRunning, kFinished, kFailed };
const char* status_name(RunStatus status);

// Who runs a command: enough to tell later whether that process still lives.
struct ProcessIdentity {
  int64_t pid = 0;
  std::string host;
  std::string boot_id;      // /proc/sys/kernel/random/boot_id
  std::string start_ticks;  // field 22 of /proc/PID/stat: tells a reused pid apart
  static ProcessIdentity current();
  // True while that process runs on this host (false on another boot, or when
  // the pid is gone or now belongs to a different process).
  bool alive_here() const;
};

struct NewRun {
  std::string command;
  std::vector<std::string> arguments{};
  nlohmann::json config{};  // secrets already masked
  std::string target{};     // empty when run directly, not through `submit`
  int ranks = 1;
  int threads = 1;
  std::string git_revision{};
  ProcessIdentity process = ProcessIdentity::current();
  int64_t parent = 0;     // the run this one is part of; 0: none
  double started_at = 0;  // unix seconds; 0: now
};

struct MetricValue {
  std::string name;
  double value = 0;
  int64_t step = 0;
};

struct Artifact {
  std::string name;  // the artifact's role: "model", "features", "etl_summary", ...
  std::string path;  // absolute
  std::string kind;  // "file" or "dir" (sha256 of a dir: sha256_tree)
  uint64_t bytes = 0;
  std::string sha256;
};

// NOLINTNEXTLINE(bugprone-exception-escape): clang-tidy 14 misreads the members' implicit moves
struct RunRecord {
  int64_t id = 0;
  std::string command;
  std::vector<std::string> arguments;
  nlohmann::json config;
  std::string target;
  int ranks = 1;
  int threads = 1;
  std::string git_revision;
  std::string host;
  int64_t pid = 0;
  double started_at = 0;           // unix seconds
  std::optional<double> ended_at;  // unix seconds
  std::optional<double> duration_seconds;
  std::string status;
  std::string error;
  int64_t parent = 0;  // 0: a run of its own
  std::map<std::string, std::string> params;
  std::vector<MetricValue> metrics;
  std::vector<Artifact> artifacts;
};

struct RunFilter {
  std::string command;  // empty: any
  std::string status;   // empty: any
  int64_t parent = 0;   // 0: runs of their own; else the runs that are part of this one
  size_t limit = 0;     // the first `limit` matches after `offset` (newest first); 0: all
  size_t offset = 0;
};

class RunStore {
 public:
  static constexpr const char* kFileName = "runs.db";

  // Opens <workspace>/runs.db (creating the folder and file when `create`),
  // migrates the schema up to `target_version` (lower only in tests) and marks
  // this host's running rows whose process is gone as failed. Throws
  // Failure(kData) naming the file when it cannot.
  static std::unique_ptr<RunStore> open(const std::filesystem::path& workspace, bool create = true,
                                        int target_version = kSchemaVersion);

  int schema_version();
  int64_t begin_run(const NewRun& run);
  void set_param(int64_t run, const std::string& name, const std::string& value);
  void log_metric(int64_t run, const std::string& name, double value, int64_t step = 0);
  void add_artifact(int64_t run, const Artifact& artifact);
  void end_run(int64_t run, RunStatus status, const std::string& error = {});

  // Newest first; the rows only (no params, metrics or artifacts).
  std::vector<RunRecord> list_runs(const RunFilter& filter = {});
  // How many runs match (limit and offset aside).
  int64_t count_runs(const RunFilter& filter = {});
  // The commands that have runs, in name order.
  std::vector<std::string> commands();
  // The full record, or nullopt.
  std::optional<RunRecord> find_run(int64_t id);

  const std::filesystem::path& workspace() const { return workspace_; }
  Database& database() { return db_; }

 private:
  struct Key {
    explicit Key() = default;
  };

 public:
  // Only open() can make the key: a store is always migrated and reaped.
  RunStore(Key, std::filesystem::path workspace, bool create);

 private:
  void migrate(int target_version);
  void mark_dead_runs_failed();

  std::filesystem::path workspace_;
  Database db_;
};

// Unix time now, in seconds with sub-second precision.
double unix_now();
// "YYYY-MM-DD HH:MM:SS" UTC.
std::string format_unix_time(double seconds);

}  // namespace loadcast::track
