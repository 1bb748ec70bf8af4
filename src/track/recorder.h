// RunRecorder: how a command records itself in the run history. Opening the
// store, masking secrets, finding the git revision, target and ranks happen
// here; a store that cannot be used costs one warning on stderr and nothing
// else, so recording never changes what a command prints or returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "track/run_store.h"

namespace loadcast::track {

// Replaces the value of every secret-looking key (storageKey, authorization,
// service keys, passwords, tokens), at any depth, by "***".
nlohmann::json mask_secrets(const nlohmann::json& value);

// `git -C dir rev-parse HEAD`, or "" when dir is not in a git checkout.
std::string git_revision(const std::filesystem::path& dir);

struct RecorderOptions {
  std::filesystem::path workspace = ".loadcast";
  std::string command;                 // etl, train, score
  std::vector<std::string> arguments;  // the command line after the subcommand name
  std::filesystem::path config_path;   // recorded masked; empty when there is none
  int threads = 1;
};

class RunRecorder {
 public:
  // Starts a run with status running. Never throws. Under MPI only rank 0
  // records; the run's ranks are the world size (LOADCAST_TARGET names the
  // target when the command came through `loadcast submit`).
  explicit RunRecorder(const RecorderOptions& options);
  // A run neither finished nor failed is recorded failed.
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  bool active() const { return store_ != nullptr; }
  int64_t id() const { return id_; }

  void param(const std::string& name, const std::string& value);
  void metric(const std::string& name, double value, int64_t step = 0);
  // Records a file or a directory (size and sha256 / sha256_tree); a path
  // that does not exist is skipped. `location`, when given, is where the
  // artifact is kept (a blob URL) and is recorded in place of the path.
  void artifact(const std::string& name, const std::filesystem::path& path,
                const std::string& location = {});
  // Records a finished run that is part of this one (a tuning trial) with
  // its parameters and metrics, ended now after `seconds`. Returns its id,
  // or 0 when this run is not recorded.
  int64_t child(const std::string& command,
                const std::vector<std::pair<std::string, std::string>>& params,
                const std::vector<MetricValue>& metrics, double seconds);
  void finish();
  void fail(const std::string& message);

 private:
  template <class Action>
  void guarded(const char* what, Action&& action);
  std::string scrub(std::string text) const;

  std::string command_;
  NewRun run_;  // as begun: a child copies its identity
  std::unique_ptr<RunStore> store_;
  int64_t id_ = 0;
  bool ended_ = false;
  std::vector<std::string> secrets_;  // literal values never to be written
};

}  // namespace loadcast::track
