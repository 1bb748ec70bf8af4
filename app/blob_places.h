// Where a command's output, model or stores live when they are blob URLs
// (docs/storage.md): a local copy in a scratch
// folder stands in for them while the command runs; etl and train publish
// what they wrote from there, the readers fetch into it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blob/storage.h"
#include "config/config.h"
#include "dist/communicator.h"
#include "serve/service.h"
#include "store/blob_output.h"
#include "store/tables.h"

namespace loadcast::app {

// The output folder of a configuration whose `output` is a blob URL: a
// scratch folder (one path for every rank of a job, as a local output
// folder is) takes the place of config.output. Nothing changes for a
// local output.
class OutputCopy {
 public:
  OutputCopy(Config& config, dist::Communicator& comm, const std::string& command);
  ~OutputCopy();
  OutputCopy(const OutputCopy&) = delete;
  OutputCopy& operator=(const OutputCopy&) = delete;

  bool remote() const { return output_ != nullptr; }
  BlobOutput& output() { return *output_; }

 private:
  std::unique_ptr<BlobOutput> output_;
  std::unique_ptr<ScratchFolder> scratch_;  // rank 0 owns and removes it
};

// A model bundle or the stores given as a blob URL (an output with its
// manifest, or a folder of blobs as the run history records a bundle),
// copied into a scratch folder; a local path is used as it is.
class FetchedPlace {
 public:
  // `part`: kModelPart (the bundle's files) or kTablesPart (the stores:
  // hourly/ and daily/ only). `what` names the option in errors.
  FetchedPlace(const std::string& location, std::string_view part, const std::string& what);
  ~FetchedPlace();
  FetchedPlace(const FetchedPlace&) = delete;
  FetchedPlace& operator=(const FetchedPlace&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool remote() const { return scratch_ != nullptr; }

  // Fetches the current copy again and puts it in place of the old one (a
  // failure keeps the old one). Nothing to do for a local path.
  void refresh();

 private:
  void fetch_into(const std::filesystem::path& target);

  std::string location_;
  std::string_view part_;
  std::string what_;
  std::unique_ptr<ScratchFolder> scratch_;
  std::filesystem::path path_;
};

// The stores --stores names (an etl output folder or a blob URL), read.
std::vector<ServerHistory> read_stores_at(const std::string& location, const FeatureSchema& schema);

// The bundle --model names (a folder, a registered NAME@VERSION or
// NAME@STAGE, or a blob URL), loaded.
std::shared_ptr<const serve::LoadedModel> load_model_reference(const std::string& workspace,
                                                               const std::string& reference);

}  // namespace loadcast::app
