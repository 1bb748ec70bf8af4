// Outputs kept in Azure Blob Storage (docs/storage.md):
// an output URL names a container and a prefix; each part of the output
// (the etl's tables and summary, the train's model bundle) is uploaded as a
// new generation under `<prefix>/generations/`, and counts only once the
// manifest blob `<prefix>/manifest.json`, written last, names it. A run that
// fails leaves the previous manifest and its generations as they were.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/storage.h"

namespace loadcast {

namespace blob {
class Client;
}

// The parts of an output, each published and fetched as a whole.
inline constexpr std::string_view kTablesPart =
    "tables";                                            // etl: features/, hourly/, daily/, summary
inline constexpr std::string_view kModelPart = "model";  // train: model/

// What one publish uploaded.
struct Published {
  std::string generation;  // e.g. tables-20261203T190102Z-5f3a9c01
  int64_t blobs = 0;
  int64_t bytes = 0;
  std::string location;  // the generation's URL (no SAS), e.g. for the run history
};

class BlobOutput {
 public:
  // `url`: wasb://container@account.blob.core.windows.net/prefix or an
  // https:// or path-style address; `what` names it in errors.
  BlobOutput(const std::string& url, const blob::StorageSettings& settings,
             const std::string& what = "the output");
  ~BlobOutput();
  BlobOutput(const BlobOutput&) = delete;
  BlobOutput& operator=(const BlobOutput&) = delete;

  // The output's URL as a person reads it (no SAS token).
  std::string text() const;

  // Uploads the files under `local_root` named by `entries` (files or
  // folders relative to it) as a new generation of `part`, then the manifest
  // naming it (the other parts kept as they were), then removes the blobs of
  // the part's previous generation. The container is created when missing.
  // A failure before the manifest is written removes what was uploaded, as
  // far as the service lets it.
  Published publish(std::string_view part, const std::filesystem::path& local_root,
                    const std::vector<std::string>& entries);

  // Downloads the current generation of `part` into `local_root`, the files
  // where publish found them; with `only`, just the files under those
  // entries. Returns the generation. Throws a data error naming the output
  // when it has no manifest or the manifest no such part.
  std::string fetch(std::string_view part, const std::filesystem::path& local_root,
                    const std::vector<std::string>& only = {});

  // Downloads every blob under the folder the URL names (a generation's
  // location as publish returned it) into `local_root`, with `only` just
  // those under the given entries; false when there is none.
  bool fetch_folder(const std::filesystem::path& local_root,
                    const std::vector<std::string>& only = {});

  // True when the URL holds an output (its manifest exists).
  bool has_manifest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A folder of its own under the system's temporary folder (TMPDIR), for a
// local copy of a blob output; removed with the object.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& purpose);
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A folder a run recorded (an artifact's path): a local folder as it is, or
// the blobs under a blob URL copied into a scratch folder it holds. path()
// is empty when the URL holds no blobs any more.
class RecordedFolder {
 public:
  explicit RecordedFolder(const std::string& location);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::optional<ScratchFolder> scratch_;
  std::filesystem::path path_;
};

}  // namespace loadcast
