// The model registry of docs/operations.md: numbered versions of named model bundles,
// copied into <workspace>/registry/NAME/VERSION/ with a content hash, staged
// (staging, production, archived; one production version per name), and
// resolved from "NAME@VERSION" or "NAME@STAGE" with the hash checked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "track/run_store.h"

namespace loadcast::track {

struct ModelVersion {
  std::string name;
  int version = 0;
  int64_t run_id = 0;
  std::filesystem::path path;  // absolute, inside the workspace's registry/
  uint64_t bytes = 0;
  std::string sha256;  // sha256_tree of the bundle at registration
  std::string stage;   // none, staging, production, archived
  double created_at = 0;
};

// True for the stages a version can be promoted to.
bool is_stage(const std::string& stage);

// Copies the model bundle of finished train run `run_id` into the registry as
// the next version of `name`. Throws Failure(kUsage) for a bad name or a run
// that is not a finished train run with a model, Failure(kData) when the
// bundle changed since the run recorded it.
ModelVersion register_model(RunStore& store, int64_t run_id, const std::string& name);

// Every version, by name then version; only `name`'s when given.
std::vector<ModelVersion> list_models(RunStore& store, const std::string& name = {});

// "NAME@3", "NAME@production", "NAME@latest". Throws Failure(kUsage) naming
// the reference when it is malformed or names nothing.
ModelVersion find_model(RunStore& store, const std::string& reference);

// Sets the stage; promoting to production archives the previous production
// version of the same name in the same transaction.
ModelVersion promote_model(RunStore& store, const std::string& name, int version,
                           const std::string& stage);

// Recomputes the bundle's hash; throws Failure(kData) naming the version and
// path when files were changed, added or removed since registration.
void verify_model(const ModelVersion& model);

// The bundle directory a reference names, after verify_model. For `serve
// --model NAME@STAGE`. Opens the workspace's store without creating it.
std::filesystem::path resolve_model_reference(const std::filesystem::path& workspace,
                                              const std::string& reference);

}  // namespace loadcast::track
