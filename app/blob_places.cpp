#include "blob_places.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "common/error.h"
#include "dist/job.h"

namespace loadcast::app {

namespace fs = std::filesystem;

OutputCopy::OutputCopy(Config& config, dist::Communicator& comm, const std::string& command) {
  if (config.output_url.empty()) return;
  const std::string url =
      config.output_url + (config.output_sas.empty() ? "" : "?" + config.output_sas);
  output_ = std::make_unique<BlobOutput>(url, storage_settings(config));
  const nlohmann::json path = dist::decide_on_root(comm, [&] {
    scratch_ = std::make_unique<ScratchFolder>(command);
    return nlohmann::json(scratch_->path().string());
  });
  config.output = path.get<std::string>();
}

OutputCopy::~OutputCopy() = default;

FetchedPlace::FetchedPlace(const std::string& location, std::string_view part,
                           const std::string& what)
    : location_(location), part_(part), what_(what) {
  if (!blob::is_blob_url(location)) {
    path_ = location;
    return;
  }
  scratch_ = std::make_unique<ScratchFolder>(std::string(part));
  path_ = scratch_->path() / "copy";
  fetch_into(path_);
}

FetchedPlace::~FetchedPlace() = default;

void FetchedPlace::refresh() {
  if (!remote()) return;
  const fs::path next = scratch_->path() / "next";
  fs::remove_all(next);
  fetch_into(next);
  fs::remove_all(path_);
  fs::rename(next, path_);
}

void FetchedPlace::fetch_into(const fs::path& target) {
  BlobOutput output(location_, blob::environment_storage(), what_);
  fs::create_directories(target);
  const bool model = part_ == kModelPart;
  const std::vector<std::string> stores = {"hourly", "daily"};
  if (output.has_manifest())
    output.fetch(part_, target, model ? std::vector<std::string>{} : stores);
  else if (!output.fetch_folder(target, model ? std::vector<std::string>{} : stores))
    fail_data(what_ + " " + output.text() + " holds no loadcast output (no manifest.json) and no " +
              (model ? "model bundle" : "stores"));
  // A bundle is published as model/ of its output: its files go to the top.
  const fs::path bundle = target / "model";
  if (model && fs::is_directory(bundle)) {
    for (const auto& e : fs::directory_iterator(bundle))
      fs::rename(e.path(), target / e.path().filename());
    fs::remove(bundle);
  }
}

std::vector<ServerHistory> read_stores_at(const std::string& location,
                                          const FeatureSchema& schema) {
  return read_stores(FetchedPlace(location, kTablesPart, "--stores").path(), schema);
}

std::shared_ptr<const serve::LoadedModel> load_model_reference(const std::string& workspace,
                                                               const std::string& reference) {
  const FetchedPlace place(model_bundle_path(workspace, reference), kModelPart, "--model");
  return serve::load_model_bundle(place.path());
}

}  // namespace loadcast::app
