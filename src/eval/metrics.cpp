#include "eval/metrics.h"

#include <string>

#include "common/error.h"
#include "features/schema.h"

namespace loadcast {

Metrics metrics_from_confusion(
    const std::array<std::array<int64_t, kNumLabels>, kNumLabels>& confusion) {
  Metrics m;
  m.confusion = confusion;
  int64_t correct = 0;
  for (int t = 0; t < kNumLabels; ++t) {
    for (int p = 0; p < kNumLabels; ++p) m.rows += confusion[t][p];
    correct += confusion[t][t];
  }
  if (m.rows == 0) return m;
  const double n = static_cast<double>(m.rows);
  m.accuracy = static_cast<double>(correct) / n;
  for (int c = 0; c < kNumLabels; ++c) {
    int64_t actual = 0;
    int64_t predicted = 0;
    for (int k = 0; k < kNumLabels; ++k) {
      actual += confusion[c][k];
      predicted += confusion[k][c];
    }
    const double tp = static_cast<double>(confusion[c][c]);
    ClassMetrics& cm = m.per_class[c];
    cm.support = actual;
    cm.precision = predicted == 0 ? 0.0 : tp / static_cast<double>(predicted);
    cm.recall = actual == 0 ? 0.0 : tp / static_cast<double>(actual);
    cm.f1 = cm.precision + cm.recall == 0
                ? 0.0
                : 2 * cm.precision * cm.recall / (cm.precision + cm.recall);
    const double weight = static_cast<double>(actual) / n;
    m.weighted_precision += cm.precision * weight;
    m.weighted_recall += cm.recall * weight;
    m.f1 += cm.f1 * weight;
  }
  return m;
}

Metrics evaluate(std::span<const int> truth, std::span<const int> predicted) {
  if (truth.size() != predicted.size()) fail_internal("evaluate: label vectors differ in length");
  std::array<std::array<int64_t, kNumLabels>, kNumLabels> confusion{};
  for (size_t i = 0; i < truth.size(); ++i) {
    const int t = truth[i];
    const int p = predicted[i];
    if (t < 1 || t > kNumLabels || p < 1 || p > kNumLabels) {
      fail_internal("evaluate: label out of range at row " + std::to_string(i));
    }
    ++confusion[t - 1][p - 1];
  }
  return metrics_from_confusion(confusion);
}

nlohmann::json to_json(const Metrics& m) {
  nlohmann::json json;
  json["accuracy"] = m.accuracy;
  json["weightedPrecision"] = m.weighted_precision;
  json["weightedRecall"] = m.weighted_recall;
  json["f1"] = m.f1;
  json["perClass"] = nlohmann::json::array();
  for (int c = 0; c < kNumLabels; ++c) {
    const auto& cm = m.per_class[c];
    json["perClass"].push_back({{default_feature_schema().of(ColumnRole::kLabel).name, c + 1},
                                {"name", kLabelNames[c]},
                                {"precision", cm.precision},
                                {"recall", cm.recall},
                                {"f1", cm.f1},
                                {"support", cm.support}});
  }
  json["confusion"] = m.confusion;
  json["rows"] = m.rows;
  return json;
}

Metrics metrics_from_json(const nlohmann::json& json) {
  try {
    const auto confusion =
        json.at("confusion").get<std::array<std::array<int64_t, kNumLabels>, kNumLabels>>();
    // The figures are derived from the matrix; the stored ones must agree.
    Metrics m = metrics_from_confusion(confusion);
    if (json.at("rows").get<int64_t>() != m.rows)
      fail_data("metrics: rows disagree with confusion");
    m.accuracy = json.at("accuracy").get<double>();
    m.weighted_precision = json.at("weightedPrecision").get<double>();
    m.weighted_recall = json.at("weightedRecall").get<double>();
    m.f1 = json.at("f1").get<double>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    fail_data(std::string("bad metrics: ") + e.what());
  }
}

}  // namespace loadcast
