// Spark MulticlassClassificationEvaluator definitions on a confusion matrix
// computed by hand.
#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"

namespace loadcast {
namespace {

// Confusion (rows true, columns predicted):
//   true 1: 5 2 1   (8)
//   true 2: 1 6 1   (8)
//   true 3: 0 2 2   (4)
// predicted totals: 6, 10, 4; 20 rows, 13 correct.
void fill(std::vector<int>& truth, std::vector<int>& predicted) {
  const int counts[3][3] = {{5, 2, 1}, {1, 6, 1}, {0, 2, 2}};
  for (int t = 0; t < 3; ++t) {
    for (int p = 0; p < 3; ++p) {
      for (int i = 0; i < counts[t][p]; ++i) {
        truth.push_back(t + 1);
        predicted.push_back(p + 1);
      }
    }
  }
}

TEST(EvalMetrics, HandComputedConfusion) {
  std::vector<int> truth, predicted;
  fill(truth, predicted);
  const Metrics m = evaluate(truth, predicted);
  EXPECT_EQ(m.rows, 20);
  EXPECT_EQ(m.confusion[0][1], 2);
  EXPECT_EQ(m.confusion[2][1], 2);
  EXPECT_EQ(m.confusion[1][0], 1);
  EXPECT_DOUBLE_EQ(m.accuracy, 13.0 / 20);
  // precision: 5/6, 6/10, 2/4; recall: 5/8, 6/8, 2/4
  EXPECT_DOUBLE_EQ(m.per_class[0].precision, 5.0 / 6);
  EXPECT_DOUBLE_EQ(m.per_class[1].precision, 0.6);
  EXPECT_DOUBLE_EQ(m.per_class[2].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[0].recall, 5.0 / 8);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.75);
  EXPECT_DOUBLE_EQ(m.per_class[2].recall, 0.5);
  // F1: 2pr/(p+r) = 5/7, 2/3, 1/2
  EXPECT_DOUBLE_EQ(m.per_class[0].f1, 5.0 / 7);
  EXPECT_DOUBLE_EQ(m.per_class[1].f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 0.5);
  EXPECT_EQ(m.per_class[0].support, 8);
  EXPECT_EQ(m.per_class[2].support, 4);
  // weighted by true support 8, 8, 4
  EXPECT_DOUBLE_EQ(m.weighted_precision, (8 * 5.0 / 6 + 8 * 0.6 + 4 * 0.5) / 20);
  EXPECT_DOUBLE_EQ(m.weighted_recall, 13.0 / 20);
  EXPECT_DOUBLE_EQ(m.f1, (8 * 5.0 / 7 + 8 * 2.0 / 3 + 4 * 0.5) / 20);
}

TEST(EvalMetrics, NeverPredictedClassHasZeroPrecision) {
  const std::vector<int> truth = {1, 1, 2, 3};
  const std::vector<int> predicted = {1, 1, 2, 2};
  const Metrics m = evaluate(truth, predicted);
  EXPECT_EQ(m.per_class[2].precision, 0.0);
  EXPECT_EQ(m.per_class[2].recall, 0.0);
  EXPECT_EQ(m.per_class[2].f1, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m.weighted_precision, (2 * 1.0 + 1 * 0.5 + 0) / 4);
}

TEST(EvalMetrics, JsonRoundTripAndShape) {
  std::vector<int> truth, predicted;
  fill(truth, predicted);
  const Metrics m = evaluate(truth, predicted);
  const auto json = to_json(m);
  for (const char* key :
       {"accuracy", "weightedPrecision", "weightedRecall", "f1", "perClass", "confusion", "rows"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json["confusion"][0][1], 2);
  const Metrics back = metrics_from_json(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(back.confusion, m.confusion);
  EXPECT_EQ(back.accuracy, m.accuracy);
  EXPECT_EQ(back.f1, m.f1);
  EXPECT_EQ(back.per_class[1].precision, m.per_class[1].precision);
}

TEST(EvalMetrics, RejectsBadInput) {
  const std::vector<int> a = {1, 2};
  const std::vector<int> b = {1};
  EXPECT_THROW(evaluate(a, b), Failure);
  const std::vector<int> c = {1, 4};
  EXPECT_THROW(evaluate(a, c), Failure);
  EXPECT_THROW(metrics_from_json(nlohmann::json::object()), Failure);
}

}  // namespace
}  // namespace loadcast
