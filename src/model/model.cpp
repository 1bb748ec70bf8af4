#include "model/model.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/json_number.h"
#include "common/thread_pool.h"
#include "config/config.h"
#include "store/atomic_dir.h"

namespace loadcast {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInfoFile = "info.json";
constexpr const char* kEncoderFile = "encoder.json";
constexpr const char* kForestFile = "forest.json";
constexpr const char* kMetricsFile = "metrics.json";

nlohmann::json read_json(const fs::path& dir, const char* name) {
  const fs::path path = dir / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_data("model bundle " + dir.string() + ": cannot read " + name);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail_data("model bundle " + dir.string() + ": " + name + " is not valid JSON (" + e.what() +
              ")");
  }
}

}  // namespace

Model::Model(ModelInfo info, Encoder encoder, forest::Forest forest, BundleMetrics metrics)
    : info_(std::move(info)),
      encoder_(std::move(encoder)),
      forest_(std::move(forest)),
      row_encoder_(encoder_),
      flat_(forest_),
      metrics_(std::move(metrics)) {
  if (forest_.num_features() != encoder_.num_features()) {
    fail_internal("model: the forest expects " + std::to_string(forest_.num_features()) +
                  " features, the encoder makes " + std::to_string(encoder_.num_features()));
  }
}

nlohmann::json Model::info_json() const {
  nlohmann::json j;
  j["bundleFormatVersion"] = kBundleFormatVersion;
  j["loadcastVersion"] = LOADCAST_VERSION;
  j.update(training_params().to_json(info_));
  for (int c = 0; c < kNumLabels; ++c) j["labels"][std::to_string(c + 1)] = kLabelNames[c];
  j["featureNames"] = encoder_.feature_names();
  j["numFeatures"] = encoder_.num_features();
  j["columnOnlyIndexed"] = encoder_.column_only_indexed();
  j["columnForEncode"] = encoder_.column_for_encode();
  j["trainRows"] = info_.train_rows;
  j["testRows"] = info_.test_rows;
  // A boosted model names its algorithm and parameters; a forest's info.json
  // stays as it always was.
  if (forest_.algorithm() == forest::Algorithm::kGradientBoostedTrees) {
    j[forest::kAlgorithmField] = forest::kGradientBoostedTreesName;
    j[kBoostingField] = forest_.to_json()["params"];
  } else {
    j[kForestField] = forest_.to_json()["params"];
  }
  j[forest::kNumTreesField] = forest_.trees().size();
  j["files"] = {{"encoder", kEncoderFile}, {kForestField, kForestFile}, {"metrics", kMetricsFile}};
  if (!info_.data_accounting.is_null()) j["dataAccounting"] = info_.data_accounting;
  return j;
}

nlohmann::json Model::metrics_json() const {
  return {{"train", to_json(metrics_.train)}, {"test", to_json(metrics_.test)}};
}

void Model::save(const fs::path& dir) const {
  StagedDirectory staged(dir);
  auto write = [&](const char* name, const std::string& content) {
    write_synced_file(staged.path() / name, content);
  };
  write(kEncoderFile, encoder_.to_json().dump(1) + "\n");
  write(kForestFile, forest_.to_json().dump() + "\n");
  write(kMetricsFile, metrics_json().dump(2) + "\n");
  // info.json last: it names the other files and marks the bundle complete.
  write(kInfoFile, info_json().dump(2) + "\n");
  staged.commit();
}

Model Model::load(const fs::path& dir) {
  if (!fs::is_directory(dir)) fail_data("model bundle " + dir.string() + ": no such directory");
  if (!fs::exists(dir / kInfoFile)) {
    fail_data("model bundle " + dir.string() + ": no info.json (not a model bundle)");
  }
  const auto info_json = read_json(dir, kInfoFile);
  if (!info_json.is_object() || !info_json.contains("bundleFormatVersion") ||
      !info_json["bundleFormatVersion"].is_number_integer()) {
    fail_data("model bundle " + dir.string() + ": info.json has no bundleFormatVersion");
  }
  const auto& given_version = info_json["bundleFormatVersion"];
  const int64_t version =
      given_version.is_number_unsigned() && given_version.get<uint64_t>() > uint64_t{INT64_MAX}
          ? -1
          : given_version.get<int64_t>();
  if (version != kBundleFormatVersion) {
    fail_data("model bundle " + dir.string() + ": format version " + std::to_string(version) +
              " is not supported (this loadcast reads version " +
              std::to_string(kBundleFormatVersion) + ")");
  }
  try {
    ModelInfo info;
    std::vector<std::string> other_fields;  // the rest of info.json
    const std::set<std::string> given = training_params().read(
        info_json, info, ParamSource{"info.json", ExitCode::kData}, other_fields);
    for (const auto& field : training_params().params())
      if (!given.count(field.name)) fail_data("info.json has no '" + field.name + "'");
    info.train_rows = whole_number<int64_t>(info_json.at("trainRows"));
    info.test_rows = whole_number<int64_t>(info_json.at("testRows"));
    if (info_json.contains("dataAccounting")) info.data_accounting = info_json["dataAccounting"];

    Encoder encoder = Encoder::from_json(read_json(dir, kEncoderFile));
    forest::Forest forest = forest::Forest::from_json(read_json(dir, kForestFile));
    const auto metrics_json = read_json(dir, kMetricsFile);
    BundleMetrics metrics{metrics_from_json(metrics_json.at("train")),
                          metrics_from_json(metrics_json.at("test"))};
    if (info_json.at("featureNames").get<std::vector<std::string>>() != encoder.feature_names()) {
      fail_data("featureNames of info.json differ from the encoder's");
    }
    return Model(std::move(info), std::move(encoder), std::move(forest), std::move(metrics));
  } catch (const nlohmann::json::exception& e) {
    fail_data("model bundle " + dir.string() + ": " + e.what());
  } catch (const Failure& f) {
    if (std::string_view(f.what()).starts_with("model bundle")) throw;
    throw Failure(f.code(), "model bundle " + dir.string() + ": " + f.what());
  }
}

std::vector<Prediction> Model::predict(std::span<const FeatureRow> rows, int threads) const {
  const size_t width = static_cast<size_t>(encoder_.num_features());
  const int K = forest_.num_classes();
  std::vector<double> proba;
  if (row_encoder_.usable() && flat_.usable()) {
    // Blocks of rows encoded and scored while their features are in cache;
    // row ranges on threads. Each row's result is the same on any thread.
    constexpr size_t kBlock = 256;
    proba.resize(rows.size() * K);
    parallel_for(rows.size(), threads, 512, [&](size_t begin, size_t end) {
      std::vector<float> features(std::min(kBlock, end - begin) * width);
      for (size_t b = begin; b < end; b += kBlock) {
        const size_t n = std::min(kBlock, end - b);
        row_encoder_.transform(rows.subspan(b, n), features.data());
        flat_.predict_proba(features.data(), n, proba.data() + b * K);
      }
    });
  } else {
    const auto matrix = encoder_.transform_all(rows, threads);
    proba = forest_.predict_proba(forest::MatrixView{matrix, rows.size(), width}, threads);
  }
  const auto best = forest::Forest::argmax(proba, K);
  std::vector<Prediction> out(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    out[r].label = best[r] + 1;
    for (int k = 0; k < K && k < 3; ++k) out[r].probability[k] = proba[r * K + k];
  }
  return out;
}

}  // namespace loadcast
