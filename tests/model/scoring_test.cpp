// The scoring layouts of the model (RowEncoder, FlatForest) give what the
// encoder and the forest give, bit for bit: Model::predict equals
// Encoder::transform + Forest::predict_proba on every row, for any batch
// size and thread count, with unseen categories and odd values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/time.h"
#include "model/flat_forest.h"
#include "model/model.h"
#include "model/row_encoder.h"
#include "model/trainer.h"
#include "support/feature_rows.h"

namespace loadcast {
namespace {

// Four servers over three weeks with a label that depends on the lags, the
// hour and the server, so that the trees use every column kind; `noisy`
// labels are a hash of the row, so that trees grow to many leaves.
std::vector<FeatureRow> training_rows(bool noisy = false) {
  std::vector<FeatureRow> rows;
  const int64_t begin = days_from_civil(2016, 6, 1) * kSecondsPerDay;
  const char* servers[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"};
  for (int s = 0; s < 4; ++s) {
    for (int h = 0; h < 21 * 24; ++h) {
      FeatureRow row = testing::calendar_row(servers[s], begin, h);
      const Calendar& c = row.calendar;
      row.calendar.holiday = c.dayofmonth == 4;
      const double base = (s + 1) * 90.0 + ((h * 37 + s * 11) % 97) * 5;
      for (int l = 0; l < default_feature_schema().num_lags(); ++l)
        row.lags[l] = base + ((l * 13 + h) % 7) * 20;
      for (int m = 0; m < kNumMeasures; ++m) row.rolling[m] = base / (m + 1) + (h % 5);
      const double load = base * (c.business_hour ? 1.6 : 0.5) + (s == 3 ? 120 : 0);
      row.current.peak[0] = load;
      row.label = label_for(load, 150, 500);
      if (noisy) row.label = 1 + static_cast<int>(((h * 2654435761u) ^ (s * 40503u)) >> 7) % 3;
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

Model train(bool noisy) {
  Config config;
  config.data_file = "input/*.csv";
  config.duration = "CUSTOM";
  config.train_begin = *parse_timestamp("2016-06-01 00:00:00");
  config.train_end = *parse_timestamp("2016-06-21 23:59:59");
  config.test_split_start = *parse_timestamp("2016-06-18 00:00:00");
  config.low_threshold = 150;
  config.high_threshold = 500;
  config.forest.num_trees = noisy ? 10 : 40;
  config.forest.max_depth = 10;
  TrainRequest request;
  request.threads = 2;
  return std::move(*train_model(config, training_rows(noisy), request).model);
}

const Model& trained_model() {
  static const Model model = train(false);
  return model;
}

// The trained model's trees, then trees of the same features grown on noisy
// labels (hundreds of leaves), then the trained model's again: one forest
// with trees of at most and of more than 64 leaves, interleaved.
const forest::Forest& mixed_forest() {
  static const forest::Forest forest = [] {
    nlohmann::json json = trained_model().forest().to_json();
    const nlohmann::json noisy = train(true).forest().to_json();
    EXPECT_EQ(json["numFeatures"], noisy["numFeatures"]);
    nlohmann::json trees = nlohmann::json::array();
    for (size_t i = 0; i < 20; ++i) trees.push_back(json["trees"][i]);
    for (const auto& tree : noisy["trees"]) trees.push_back(tree);
    for (size_t i = 20; i < json["trees"].size(); ++i) trees.push_back(json["trees"][i]);
    json["trees"] = trees;
    json["params"]["numTrees"] = trees.size();
    return forest::Forest::from_json(json);
  }();
  return forest;
}

// Training rows plus rows the model never saw: other servers, years, weeks,
// hours out of range, and non-finite or extreme lags.
std::vector<FeatureRow> scoring_rows() {
  std::vector<FeatureRow> rows = training_rows();
  const size_t n = rows.size();
  for (size_t i = 0; i < n; i += 7) {
    FeatureRow row = rows[i];
    switch (i % 6) {
      case 0:
        row.server_ip = "192.168.1." + std::to_string(i % 250);
        break;
      case 1:
        row.calendar.year = 2017 + static_cast<int>(i % 3);
        break;
      case 2:
        row.calendar.weekofyear = 1 + static_cast<int>(i % 53);
        break;
      case 3:
        row.calendar.dayofmonth = 1 + static_cast<int>(i % 31);
        row.calendar.month = 12;
        break;
      case 4:
        row.lags[i % default_feature_schema().num_lags()] =
            std::numeric_limits<double>::quiet_NaN();
        break;
      case 5:
        row.rolling[i % kNumMeasures] = (i % 2 ? 1 : -1) * std::numeric_limits<double>::infinity();
        break;
    }
    row.linear_trend = -row.linear_trend;
    rows.push_back(std::move(row));
  }
  FeatureRow blank;  // every field zero: a server named "", year 0, ...
  rows.push_back(blank);
  return rows;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(ModelScoring, RowEncoderWritesTheEncodersVectors) {
  const Encoder& encoder = trained_model().encoder();
  const RowEncoder fast(encoder);
  ASSERT_TRUE(fast.usable());
  ASSERT_EQ(fast.num_features(), encoder.num_features());
  const auto rows = scoring_rows();
  const size_t width = static_cast<size_t>(encoder.num_features());
  std::vector<float> got(rows.size() * width);
  fast.transform(rows, got.data());
  std::vector<float> want(width);
  for (size_t r = 0; r < rows.size(); ++r) {
    encoder.transform(rows[r], std::span<float>(want));
    for (size_t f = 0; f < width; ++f)
      ASSERT_TRUE(same_bits(got[r * width + f], want[f]))
          << "row " << r << " feature " << encoder.feature_names()[f] << ": " << got[r * width + f]
          << " vs " << want[f];
  }
}

// Every kernel this CPU runs (walk, AVX2, AVX-512), for batch sizes around
// the lane and block widths.
TEST(ModelScoring, FlatForestEqualsTheForestBitForBit) {
  const Model& model = trained_model();
  const forest::Forest& forest = mixed_forest();
  const auto rows = scoring_rows();
  const auto matrix = model.encoder().transform_all(rows);
  const size_t width = static_cast<size_t>(model.encoder().num_features());
  const auto want = forest.predict_proba(forest::MatrixView{matrix, rows.size(), width});
  bool walked_and_masked = false;
  for (const auto kernel :
       {FlatForest::Kernel::kWalk, FlatForest::Kernel::kAvx2, FlatForest::Kernel::kAvx512}) {
    const FlatForest flat(forest, kernel);
    ASSERT_TRUE(flat.usable());
    if (flat.kernel() != kernel) continue;  // this CPU lacks it
    const size_t masked = flat.masked_trees();
    EXPECT_EQ(masked == 0, kernel == FlatForest::Kernel::kWalk) << FlatForest::kernel_name(kernel);
    walked_and_masked |= masked > 0 && masked < forest.trees().size();
    for (const size_t batch :
         {size_t{1}, size_t{7}, size_t{8}, size_t{48}, size_t{65}, rows.size()}) {
      std::vector<double> got(rows.size() * forest.num_classes());
      for (size_t begin = 0; begin < rows.size(); begin += batch) {
        const size_t n = std::min(batch, rows.size() - begin);
        flat.predict_proba(matrix.data() + begin * width, n,
                           got.data() + begin * forest.num_classes());
      }
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_TRUE(same_bits(got[i], want[i]))
            << FlatForest::kernel_name(kernel) << ", batch " << batch << ", value " << i << ": "
            << got[i] << " vs " << want[i];
    }
  }
  // On a CPU with a bit-vector kernel, both ways score trees of this forest.
  if (FlatForest(forest).kernel() != FlatForest::Kernel::kWalk) {
    EXPECT_TRUE(walked_and_masked);
  }
}

TEST(ModelScoring, PredictEqualsEncoderAndForestForAnyThreadCount) {
  const Model& trained = trained_model();
  const Model model(trained.info(), trained.encoder(), mixed_forest(), trained.metrics());
  const auto rows = scoring_rows();
  const auto matrix = model.encoder().transform_all(rows);
  const size_t width = static_cast<size_t>(model.encoder().num_features());
  const auto proba = model.forest().predict_proba(forest::MatrixView{matrix, rows.size(), width});
  const auto best = forest::Forest::argmax(proba, model.forest().num_classes());
  for (const int threads : {1, 2, 3}) {
    const auto got = model.predict(rows, threads);
    ASSERT_EQ(got.size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      ASSERT_EQ(got[r].label, best[r] + 1) << r;
      for (int k = 0; k < 3; ++k)
        ASSERT_TRUE(same_bits(got[r].probability[k], proba[r * 3 + k])) << r;
    }
  }
}

// A forest whose nodes share a child is no tree; the flat layout declines it
// and the model scores it the plain way.
TEST(ModelScoring, FlatForestDeclinesANodeWithTwoParents) {
  nlohmann::json json = trained_model().forest().to_json();
  auto& tree = json["trees"][0];
  tree["feature"] = {0, 1, -1};
  tree["threshold"] = {0.5, 0.5, 0.0};
  tree["left"] = {1, 2, -1};
  tree["right"] = {2, 2, -1};
  tree["gain"] = {0.1, 0.1, 0.0};
  tree["counts"] = {3.0, 2.0, 1.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.0};
  const auto forest = forest::Forest::from_json(json);
  EXPECT_FALSE(FlatForest(forest).usable());
}

}  // namespace
}  // namespace loadcast
