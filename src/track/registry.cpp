#include "track/registry.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/sha256.h"
#include "store/blob_output.h"
#include "track/sqlite.h"

namespace loadcast::track {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRegistryDir = "registry";
constexpr const char* kVersionColumns =
    "name, version, run_id, path, bytes, sha256, stage, created_at";

void check_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 100 &&
                  std::isalnum(static_cast<unsigned char>(name[0])) &&
                  std::all_of(name.begin(), name.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                  });
  if (!ok)
    fail_usage("model name '" + name +
               "' must start with a letter or digit and hold only letters, digits, '.', '_', '-'");
}

ModelVersion read_version(Statement& s, const fs::path& workspace) {
  ModelVersion v;
  v.name = s.text(0);
  v.version = static_cast<int>(s.integer(1));
  v.run_id = s.integer(2);
  v.path = fs::absolute(workspace / s.text(3)).lexically_normal();
  v.bytes = static_cast<uint64_t>(s.integer(4));
  v.sha256 = s.text(5);
  v.stage = s.text(6);
  v.created_at = s.real(7);
  return v;
}

std::optional<ModelVersion> query_one(RunStore& store, const std::string& where,
                                      const std::string& name, std::optional<int> number,
                                      const std::string& stage) {
  auto s = store.database().prepare(std::string("SELECT ") + kVersionColumns +
                                    " FROM model_versions WHERE " + where +
                                    " ORDER BY version DESC LIMIT 1");
  s.bind(1, name);
  if (number) s.bind(2, *number);
  if (!stage.empty()) s.bind(2, stage);
  if (!s.step()) return std::nullopt;
  return read_version(s, store.workspace());
}

}  // namespace

bool is_stage(const std::string& stage) {
  return stage == "staging" || stage == "production" || stage == "archived";
}

ModelVersion register_model(RunStore& store, int64_t run_id, const std::string& name) {
  check_name(name);
  const auto run = store.find_run(run_id);
  if (!run)
    fail_usage("run " + std::to_string(run_id) + " does not exist (see 'loadcast runs list')");
  if (run->command != "train" && run->command != "tune")
    fail_usage(
        "run " + std::to_string(run_id) + " is " +
        (std::string("aeiou").find(run->command.front()) != std::string::npos ? "an " : "a ") +
        run->command + " run; only train and tune runs have a model");
  if (run->status != "finished")
    fail_usage("run " + std::to_string(run_id) + " is " + run->status +
               "; only a finished run's model can be registered");
  const auto artifact =
      std::find_if(run->artifacts.begin(), run->artifacts.end(),
                   [](const Artifact& a) { return a.name == "model" && a.kind == "dir"; });
  if (artifact == run->artifacts.end())
    fail_usage("run " + std::to_string(run_id) + " recorded no model bundle");
  // A bundle published to blob storage is fetched first (the hash checks it).
  const RecordedFolder bundle(artifact->path);
  const fs::path& source = bundle.path();
  if (source.empty() || !fs::is_directory(source))
    fail_data("model bundle " + artifact->path + " of run " + std::to_string(run_id) +
              " no longer exists");
  if (sha256_tree(source).sha256 != artifact->sha256)
    fail_data("model bundle " + artifact->path + " changed since run " + std::to_string(run_id) +
              " wrote it (sha256 differs); train again to register it");

  // Copy outside the lock, then number and move it into place under it.
  const fs::path name_dir = store.workspace() / kRegistryDir / name;
  fs::create_directories(name_dir);
  const fs::path staging = name_dir / (".staging-" + std::to_string(getpid()));
  fs::remove_all(staging);
  fs::copy(source, staging, fs::copy_options::recursive);
  const FileDigest copied = sha256_tree(staging);
  if (copied.sha256 != artifact->sha256) {
    fs::remove_all(staging);
    fail_data("model bundle " + artifact->path + " changed while it was being copied; try again");
  }

  Database& db = store.database();
  Transaction tx(db);
  auto next = db.prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?");
  next.bind(1, name);
  next.step();
  const int version = static_cast<int>(next.integer(0));
  const fs::path relative = fs::path(kRegistryDir) / name / std::to_string(version);
  std::error_code ec;
  fs::remove_all(store.workspace() / relative, ec);  // left by a registration that never committed
  fs::rename(staging, store.workspace() / relative, ec);
  if (ec) {
    fs::remove_all(staging);
    fail_data("cannot move the bundle into " + (store.workspace() / relative).string() + ": " +
              ec.message());
  }
  db.prepare(
        "INSERT INTO model_versions (name, version, run_id, path, bytes, sha256, stage, "
        "created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'none', ?)")
      .bind(1, name)
      .bind(2, version)
      .bind(3, run_id)
      .bind(4, relative.generic_string())
      .bind(5, static_cast<int64_t>(copied.bytes))
      .bind(6, copied.sha256)
      .bind(7, unix_now())
      .run();
  tx.commit();
  return find_model(store, name + "@" + std::to_string(version));
}

std::vector<ModelVersion> list_models(RunStore& store, const std::string& name) {
  auto s = store.database().prepare(
      std::string("SELECT ") + kVersionColumns +
      " FROM model_versions WHERE (?1 = '' OR name = ?1) ORDER BY name, version");
  s.bind(1, name);
  std::vector<ModelVersion> out;
  while (s.step()) out.push_back(read_version(s, store.workspace()));
  return out;
}

ModelVersion find_model(RunStore& store, const std::string& reference) {
  const auto at = reference.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == reference.size())
    fail_usage("model reference '" + reference +
               "' must be NAME@VERSION or NAME@STAGE (staging, production, archived, latest)");
  const std::string name = reference.substr(0, at);
  const std::string which = reference.substr(at + 1);
  check_name(name);
  std::optional<ModelVersion> found;
  if (std::all_of(which.begin(), which.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (which.size() > 9)
      fail_usage("model reference '" + reference + "': version number too large");
    found = query_one(store, "name = ?1 AND version = ?2", name, std::stoi(which), {});
  } else if (which == "latest") {
    found = query_one(store, "name = ?1", name, std::nullopt, {});
  } else if (is_stage(which)) {
    found = query_one(store, "name = ?1 AND stage = ?2", name, std::nullopt, which);
  } else {
    fail_usage("model reference '" + reference + "': '" + which +
               "' is neither a version number nor a stage (staging, production, archived, latest)");
  }
  if (!found) {
    if (list_models(store, name).empty())
      fail_usage("model reference '" + reference + "': no model named '" + name +
                 "' in the registry of " + store.workspace().string());
    fail_usage("model reference '" + reference + "': model '" + name + "' has no version " +
               (is_stage(which) ? "in stage " : "") + which);
  }
  return *found;
}

ModelVersion promote_model(RunStore& store, const std::string& name, int version,
                           const std::string& stage) {
  check_name(name);
  if (!is_stage(stage)) fail_usage("stage '" + stage + "' must be staging, production or archived");
  Database& db = store.database();
  Transaction tx(db);
  const ModelVersion model = find_model(store, name + "@" + std::to_string(version));
  const double now = unix_now();
  if (stage == "production") {
    db.prepare(
          "UPDATE model_versions SET stage = 'archived', stage_changed_at = ? "
          "WHERE name = ? AND stage = 'production' AND version <> ?")
        .bind(1, now)
        .bind(2, name)
        .bind(3, version)
        .run();
  }
  db.prepare(
        "UPDATE model_versions SET stage = ?, stage_changed_at = ? WHERE name = ? AND version = ?")
      .bind(1, stage)
      .bind(2, now)
      .bind(3, name)
      .bind(4, model.version)
      .run();
  tx.commit();
  return find_model(store, name + "@" + std::to_string(version));
}

void verify_model(const ModelVersion& model) {
  const std::string label = "model " + model.name + "@" + std::to_string(model.version);
  if (!fs::is_directory(model.path))
    fail_data(label + ": bundle " + model.path.string() + " is missing");
  const FileDigest now = sha256_tree(model.path);
  if (now.sha256 != model.sha256)
    fail_data(label + ": bundle " + model.path.string() +
              " was modified after registration (content sha256 " + now.sha256.substr(0, 12) +
              ", registered " + model.sha256.substr(0, 12) + "); refusing to use it");
}

fs::path resolve_model_reference(const fs::path& workspace, const std::string& reference) {
  if (!fs::exists(workspace / RunStore::kFileName))
    fail_usage("model reference '" + reference + "': no model registry in workspace " +
               workspace.string() +
               " (register one with 'loadcast models register', or pass --workspace)");
  auto store = RunStore::open(workspace, false);
  const ModelVersion model = find_model(*store, reference);
  verify_model(model);
  return model.path;
}

}  // namespace loadcast::track
