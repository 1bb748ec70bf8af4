#include "store/blob_output.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "blob/client.h"
#include "common/error.h"
#include "common/faults.h"

namespace loadcast {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kManifest = "manifest.json";
constexpr const char* kGenerations = "generations";
constexpr int kManifestVersion = 1;
// An unnamed generation this old was left by a run that was killed: no
// writer still uploads it.
constexpr std::time_t kAbandonedSeconds = std::time_t{24} * 3600;

std::string joined(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

std::string utc_stamp(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm gm{};
  gmtime_r(&now, &gm);
  char text[32];
  std::strftime(text, sizeof text, format, &gm);
  return text;
}

// A name no other run picks: the part, the time and 32 random bits.
std::string new_generation(std::string_view part) {
  std::random_device device;
  char random[16];
  std::snprintf(random, sizeof random, "%08x", static_cast<unsigned>(device()));
  return std::string(part) + "-" + utc_stamp("%Y%m%dT%H%M%SZ") + "-" + random;
}

// When a generation's name says it began (part-YYYYMMDDTHHMMSSZ-random);
// nothing for a name of another shape.
std::optional<std::time_t> generation_start(std::string_view generation) {
  const size_t dash = generation.find('-');
  if (dash == std::string_view::npos || generation.size() < dash + 17) return std::nullopt;
  std::tm tm{};
  const std::string stamp(generation.substr(dash + 1, 16));
  const char* end = strptime(stamp.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

// The files of `entries` under `root`, as relative names in sorted order.
std::vector<std::pair<std::string, int64_t>> local_files(const fs::path& root,
                                                         const std::vector<std::string>& entries) {
  std::vector<std::pair<std::string, int64_t>> files;
  for (const std::string& entry : entries) {
    const fs::path path = root / entry;
    if (fs::is_regular_file(path)) {
      files.emplace_back(entry, static_cast<int64_t>(fs::file_size(path)));
      continue;
    }
    if (!fs::is_directory(path)) continue;
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file())
        files.emplace_back(fs::relative(e.path(), root).generic_string(),
                           static_cast<int64_t>(e.file_size()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A relative name that stays inside the folder it is written to.
bool safe_name(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (const auto& part : fs::path(name))
    if (part == ".." || part == ".") return false;
  return true;
}

// The "upload" failure point (common/faults.h), before each blob is written.
void check_fault(const std::string& blob) {
  if (fault_at("upload", blob) != Fault::kNone)
    fail_data("cannot upload blob '" + blob + "': the connection was lost");
}

bool under(const std::string& name, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(), [&](const std::string& entry) {
    return name == entry || name.starts_with(entry + "/");
  });
}

}  // namespace

struct BlobOutput::State {
  blob::BlobUrl url;
  std::string prefix;  // the URL's path without a trailing '/'
  blob::Client client;

  State(blob::BlobUrl u, const blob::StorageSettings& settings)
      : url(std::move(u)), client(blob::resolve_service(url, settings)) {
    prefix = url.path;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  }

  std::string text() const { return url.with_path(prefix).text(); }
  std::string manifest_blob() const { return joined(prefix, kManifest); }
  std::string generation_folder(const std::string& generation) const {
    return joined(prefix, std::string(kGenerations) + "/" + generation);
  }

  // The manifest, or nothing when the output has none yet.
  std::optional<json> manifest() {
    const auto bytes = client.size_of(url.container, manifest_blob());
    if (!bytes) return std::nullopt;
    std::string text(static_cast<size_t>(*bytes), '\0');
    text.resize(client.read(url.container, manifest_blob(), 0, text.size(), text.data()));
    json m;
    try {
      m = json::parse(text);
    } catch (const json::exception& e) {
      fail_data(this->text() + "/" + kManifest + " is not a manifest (" + e.what() + ")");
    }
    if (!m.is_object() || !m.contains("parts") || !m["parts"].is_object())
      fail_data(this->text() + "/" + kManifest + " is not a loadcast output manifest");
    return m;
  }

  // The blobs of one part, checked.
  std::vector<std::pair<std::string, int64_t>> blobs_of(const json& part_entry) {
    std::vector<std::pair<std::string, int64_t>> blobs;
    try {
      for (const json& b : part_entry.at("blobs")) {
        const std::string name = b.at("name").get<std::string>();
        const auto bytes = b.at("bytes").get<int64_t>();
        if (!safe_name(name) || bytes < 0) throw std::invalid_argument(name);
        blobs.emplace_back(name, bytes);
      }
    } catch (const std::exception&) {
      fail_data(text() + "/" + kManifest + " lists a blob it cannot hold (a name outside the " +
                "output, or no size)");
    }
    return blobs;
  }

  void download(const std::string& folder, const std::string& name, int64_t bytes,
                const fs::path& local_root) {
    const fs::path target = local_root / name;
    fs::create_directories(target.parent_path());
    client.get_file(url.container, joined(folder, name), bytes, target);
  }
};

BlobOutput::BlobOutput(const std::string& url, const blob::StorageSettings& settings,
                       const std::string& what)
    : state_(std::make_unique<State>(blob::parse_blob_url(url, what), settings)) {}

BlobOutput::~BlobOutput() = default;

std::string BlobOutput::text() const { return state_->text(); }

Published BlobOutput::publish(std::string_view part, const fs::path& local_root,
                              const std::vector<std::string>& entries) {
  State& s = *state_;
  Published done;
  done.generation = new_generation(part);
  const std::string folder = s.generation_folder(done.generation);
  done.location = s.url.with_path(folder).text();
  const auto files = local_files(local_root, entries);
  if (files.empty())
    fail_data("nothing to upload to " + s.text() + " under " + local_root.string());

  s.client.create_container(s.url.container);
  json listed = json::array();
  std::vector<std::string> uploaded;
  std::optional<json> previous;
  try {
    for (const auto& [name, bytes] : files) {
      check_fault(joined(folder, name));
      s.client.put_file(s.url.container, joined(folder, name), local_root / name, bytes);
      uploaded.push_back(joined(folder, name));
      listed.push_back({{"name", name}, {"bytes", bytes}});
      ++done.blobs;
      done.bytes += bytes;
    }
    previous = s.manifest();
    json manifest = previous.value_or(json{{"parts", json::object()}});
    manifest["manifest"] = kManifestVersion;
    manifest["parts"][std::string(part)] = {{"generation", done.generation},
                                            {"written", utc_stamp("%Y-%m-%dT%H:%M:%SZ")},
                                            {"blobs", listed}};
    check_fault(s.manifest_blob());
    s.client.put(s.url.container, s.manifest_blob(), manifest.dump(1) + "\n");
  } catch (...) {
    // Nothing names these blobs yet: take them away again, as far as we can.
    for (const std::string& blob : uploaded) try {
        s.client.remove(s.url.container, blob);
      } catch (const std::exception&) {  // the service is gone; they stay unnamed
      }
    throw;
  }

  // Nothing names the part's previous generation now; nor the ones killed
  // runs left, which are removed once they began long ago (a younger one may
  // still be uploading). What cannot be removed stays, unnamed, harmless to
  // readers, until the next publish.
  std::string replaced;
  if (previous && previous->at("parts").contains(std::string(part)))
    replaced = previous->at("parts").at(std::string(part)).value("generation", "");
  try {
    const std::string generations = joined(s.prefix, std::string(kGenerations) + "/");
    const std::time_t now = std::time(nullptr);
    for (const blob::BlobItem& item :
         s.client.list(s.url.container, generations + std::string(part) + "-")) {
      const std::string name = item.name.substr(generations.size());
      const std::string generation = name.substr(0, name.find('/'));
      if (generation == done.generation) continue;
      const auto started = generation_start(generation);
      if (generation == replaced || (started && now - *started > kAbandonedSeconds))
        s.client.remove(s.url.container, item.name);
    }
  } catch (const std::exception&) {
  }
  return done;
}

std::string BlobOutput::fetch(std::string_view part, const fs::path& local_root,
                              const std::vector<std::string>& only) {
  State& s = *state_;
  const auto manifest = s.manifest();
  const bool tables = part == kTablesPart;
  const std::string run_first = tables ? "run 'loadcast etl' with this output first"
                                       : "run 'loadcast train' with this output first";
  if (!manifest)
    fail_data(s.text() + " holds no loadcast output (no " + kManifest + "; " + run_first + ")");
  const json& parts = manifest->at("parts");
  if (!parts.contains(std::string(part)))
    fail_data(s.text() + " holds no " + (tables ? "tables" : "model bundle") + " yet (" +
              run_first + ")");
  const json& entry = parts.at(std::string(part));
  std::string generation = entry.value("generation", "");
  if (!safe_name(generation) || generation.find('/') != std::string::npos)
    fail_data(s.text() + "/" + kManifest + " names no generation for " + std::string(part));
  const std::string folder = s.generation_folder(generation);
  for (const auto& [name, bytes] : s.blobs_of(entry))
    if (under(name, only)) s.download(folder, name, bytes, local_root);
  return generation;
}

bool BlobOutput::fetch_folder(const fs::path& local_root, const std::vector<std::string>& only) {
  State& s = *state_;
  const std::string folder = s.prefix.empty() ? "" : s.prefix + "/";
  bool any = false;
  for (const blob::BlobItem& item : s.client.list(s.url.container, folder)) {
    const std::string name = item.name.substr(folder.size());
    if (!safe_name(name) || !under(name, only)) continue;
    s.download(s.prefix, name, item.bytes, local_root);
    any = true;
  }
  return any;
}

bool BlobOutput::has_manifest() {
  return state_->client.size_of(state_->url.container, state_->manifest_blob()).has_value();
}

ScratchFolder::ScratchFolder(const std::string& purpose) {
  std::string pattern = (fs::temp_directory_path() / ("loadcast-" + purpose + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    fail_data("cannot make a folder in " + fs::path(pattern).parent_path().string() + ": " +
              std::strerror(errno));
  path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RecordedFolder::RecordedFolder(const std::string& location) {
  if (!blob::is_blob_url(location)) {
    path_ = location;
    return;
  }
  scratch_.emplace("recorded");
  BlobOutput blobs(location, blob::environment_storage(), "the recorded folder");
  if (blobs.fetch_folder(scratch_->path())) path_ = scratch_->path();
}

}  // namespace loadcast
