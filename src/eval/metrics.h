// Classification metrics of docs/outputs.md with the definitions of Spark's
// MulticlassClassificationEvaluator: accuracy, weighted precision / recall /
// F1, per-class figures and the 3x3 confusion matrix (rows true, columns
// predicted), and their JSON form in metrics.json.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>

namespace loadcast {

inline constexpr int kNumLabels = 3;  // 1 low, 2 medium, 3 high
// The names of labels 1..3, in label order.
inline constexpr std::array<const char*, kNumLabels> kLabelNames = {"low", "medium", "high"};

struct ClassMetrics {
  double precision = 0;  // tp / (tp + fp), 0 when nothing was predicted as it
  double recall = 0;     // tp / (tp + fn), 0 when it never occurs
  double f1 = 0;         // 2pr / (p + r), 0 when p + r = 0
  int64_t support = 0;   // rows whose true label it is
};

struct Metrics {
  double accuracy = 0;
  double weighted_precision = 0;  // per-class precision weighted by true support
  double weighted_recall = 0;
  double f1 = 0;  // weighted F1
  std::array<ClassMetrics, kNumLabels> per_class{};
  std::array<std::array<int64_t, kNumLabels>, kNumLabels> confusion{};  // [true-1][predicted-1]
  int64_t rows = 0;
};

// Labels are 1..3. Throws Failure(kInternal) on a length mismatch or a label
// out of range.
Metrics evaluate(std::span<const int> truth, std::span<const int> predicted);
// The same from a confusion matrix.
Metrics metrics_from_confusion(
    const std::array<std::array<int64_t, kNumLabels>, kNumLabels>& confusion);

nlohmann::json to_json(const Metrics& metrics);
// Throws Failure(kData) on a malformed document.
Metrics metrics_from_json(const nlohmann::json& json);

}  // namespace loadcast
