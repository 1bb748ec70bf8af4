// Gradient-boosted trees on compact rows: they learn, their leaf values are
// the Newton steps of the softmax loss, the same bytes grow for any thread
// count and any spread of rows over ranks, early stopping keeps the best
// round, and the JSON round trip keeps every probability.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "forest/forest.h"
#include "forest/sampling.h"
#include "support/thread_communicator.h"

namespace loadcast::forest::boosting_test {
namespace {

// Rows of two numeric features and a one-hot block of 300 categories (two-
// byte codes): the label follows the first feature, and every 25th
// category moves it up a class. `noise` of the labels are drawn at random.
struct Rows {
  static constexpr int kWidth = 300;
  size_t rows = 0;
  std::vector<float> x;  // dense: x0, the block, x1
  std::vector<std::array<float, 2>> numeric;
  std::vector<uint16_t> code;
  std::vector<uint8_t> y;
  std::vector<uint64_t> keys;
  std::array<OneHotBlock, 1> blocks{OneHotBlock{1, kWidth}};
  size_t cols() const { return 2 + kWidth; }
};

Rows make_rows(size_t n, uint64_t seed, double noise = 0.0) {
  Rows d;
  d.rows = n;
  SplitMix rng(seed);
  for (size_t r = 0; r < n; ++r) {
    const float x0 = static_cast<float>(unit_double(rng.next()));
    const float x1 = static_cast<float>(unit_double(rng.next()));
    const auto code = static_cast<uint16_t>(rng.below(Rows::kWidth + 1));
    const size_t at = d.x.size();
    d.x.resize(at + d.cols(), 0.0f);
    d.x[at] = x0;
    if (code < Rows::kWidth) d.x[at + 1 + code] = 1.0f;
    d.x[at + d.cols() - 1] = x1;
    d.numeric.push_back({x0, x1});
    d.code.push_back(code);
    auto label = static_cast<uint8_t>(x0 < 0.4f ? 0 : (x0 < 0.7f ? 1 : 2));
    if (code % 25 == 0) label = static_cast<uint8_t>(std::min(2, label + 1));
    if (unit_double(rng.next()) < noise) label = static_cast<uint8_t>(rng.below(3));
    d.y.push_back(label);
    d.keys.push_back(row_key("10.2.0." + std::to_string(r % 13),
                             static_cast<int64_t>(r) * 3600 + static_cast<int64_t>(seed)));
  }
  return d;
}

std::vector<FeatureSplits> splits_of(const Rows& d, int max_bins) {
  return find_splits(MatrixView{d.x, d.rows, d.cols()}, d.keys, max_bins, 200'000, 1);
}

// Rows r of `d` with r % ranks == rank, binned with `splits`.
TrainingSet set_of(const Rows& d, const std::vector<FeatureSplits>& splits, int rank = 0,
                   int ranks = 1) {
  TrainingSet set(splits, d.blocks);
  for (size_t r = static_cast<size_t>(rank); r < d.rows; r += static_cast<size_t>(ranks)) {
    const std::array<uint16_t, 1> codes{d.code[r]};
    set.add(d.numeric[r], codes, d.y[r], d.keys[r]);
  }
  return set;
}

BoostOptions options(int threads) {
  BoostOptions o;
  o.params.num_rounds = 30;
  o.params.max_depth = 4;
  o.params.learning_rate = 0.3;
  o.threads = threads;
  return o;
}

Forest boost(const TrainingSet& set, const BoostOptions& o, const TrainingSet* validation = nullptr,
             BoostHistory* history = nullptr) {
  auto local = dist::make_local_communicator();
  return Forest::boost(set, validation, 3, o, *local, nullptr, history);
}

double accuracy(const Forest& forest, const TrainingSet& set) {
  const auto best = Forest::argmax(forest.predict_proba(set, 0, set.rows(), 2), 3);
  size_t right = 0;
  for (size_t r = 0; r < set.rows(); ++r) right += best[r] == set.labels()[r];
  return static_cast<double>(right) / static_cast<double>(set.rows());
}

TEST(BoostTrain, LearnsNumericAndOneHotSplits) {
  const Rows train = make_rows(6000, 1);
  const Rows held_out = make_rows(3000, 2);
  const auto splits = splits_of(train, 64);
  const Forest forest = boost(set_of(train, splits), options(2));
  EXPECT_EQ(forest.algorithm(), Algorithm::kGradientBoostedTrees);
  EXPECT_EQ(forest.trees().size(), 90u);  // one per class and round
  for (size_t t = 0; t < forest.trees().size(); ++t) {
    EXPECT_EQ(forest.trees()[t].output_class, static_cast<int>(t % 3));
    EXPECT_LE(forest.trees()[t].depth(), 4);
  }
  EXPECT_GT(accuracy(forest, set_of(held_out, splits)), 0.985);
  // Both kinds of feature are split on, the wide block's categories too.
  bool numeric = false, one_hot = false;
  for (const Tree& tree : forest.trees()) {
    for (const auto& node : tree.nodes) {
      numeric |= node.feature == 0;
      one_hot |= node.feature >= 1 && node.feature <= Rows::kWidth;
    }
  }
  EXPECT_TRUE(numeric);
  EXPECT_TRUE(one_hot);
  // Each row's probabilities are a distribution.
  const auto proba = forest.predict_proba(set_of(held_out, splits), 0, 50, 1);
  for (size_t r = 0; r < 50; ++r)
    EXPECT_NEAR(proba[r * 3] + proba[r * 3 + 1] + proba[r * 3 + 2], 1.0, 1e-12);
}

// One round of stumps with learning rate 1 and no penalty: each leaf's
// value is -G / H of its rows, the softmax gradients at the base score.
TEST(BoostTrain, ALeafValueIsTheNewtonStepOfItsRows) {
  const Rows d = make_rows(2000, 3);
  const auto splits = splits_of(d, 16);
  const TrainingSet set = set_of(d, splits);
  BoostOptions o = options(1);
  o.params.num_rounds = 1;
  o.params.max_depth = 1;
  o.params.learning_rate = 1.0;
  o.params.l2_regularization = 0.0;
  const Forest forest = boost(set, o);
  std::array<double, 3> counts{};
  for (uint8_t y : d.y) counts[y] += 1;
  const auto& base = forest.base_score();
  for (int k = 0; k < 3; ++k)
    EXPECT_DOUBLE_EQ(base[k], std::log((counts[k] + 1) / (static_cast<double>(d.rows) + 3)));
  double top = *std::max_element(base.begin(), base.end());
  std::array<double, 3> p{};
  double total = 0;
  for (int k = 0; k < 3; ++k) total += p[k] = std::exp(base[k] - top);
  for (double& v : p) v /= total;
  for (int k = 0; k < 3; ++k) {
    const Tree& tree = forest.trees()[k];
    ASSERT_EQ(tree.nodes.size(), 3u);
    const auto& root = tree.nodes[0];
    std::array<double, 2> g{}, h{};
    for (size_t r = 0; r < d.rows; ++r) {
      const float v = d.x[r * d.cols() + static_cast<size_t>(root.feature)];
      const int side = v <= root.threshold ? 0 : 1;
      g[side] += p[k] - (d.y[r] == k ? 1.0 : 0.0);
      h[side] += 2 * p[k] * (1 - p[k]);
    }
    for (int side = 0; side < 2; ++side) {
      const int node = side == 0 ? root.left : root.right;
      EXPECT_NEAR(tree.leaf_values[static_cast<size_t>(node) * 3 + k], -g[side] / h[side], 1e-6)
          << "class " << k << " side " << side;
      EXPECT_NEAR(tree.counts[static_cast<size_t>(node) * 3 + k], h[side], 1e-5);
    }
  }
}

TEST(BoostTrain, SameBytesForAnyThreadCountAndAnySpreadOverRanks) {
  const Rows d = make_rows(5000, 4, 0.1);
  const auto splits = splits_of(d, 32);
  BoostOptions o = options(1);
  o.params.subsample = 0.7;
  o.params.colsample = 0.6;
  o.params.min_child_weight = 3;
  const std::string one = boost(set_of(d, splits), o).to_json().dump();
  o.threads = 2;
  EXPECT_EQ(boost(set_of(d, splits), o).to_json().dump(), one);
  for (int ranks : {2, 3}) {
    std::vector<std::string> got(static_cast<size_t>(ranks));
    std::vector<TrainStats> stats(static_cast<size_t>(ranks));
    testing::run_ranks(ranks, [&](dist::Communicator& comm) {
      const TrainingSet mine = set_of(d, splits, comm.rank(), ranks);
      got[static_cast<size_t>(comm.rank())] =
          Forest::boost(mine, nullptr, 3, o, comm, &stats[static_cast<size_t>(comm.rank())])
              .to_json()
              .dump();
    });
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(got[static_cast<size_t>(r)], one) << ranks << " ranks, rank " << r;
      EXPECT_GT(stats[static_cast<size_t>(r)].allreduce_calls, 0);
    }
  }
  // The random draws matter: another seed grows other trees.
  o.params.seed = 7;
  EXPECT_NE(boost(set_of(d, splits), o).to_json().dump(), one);
}

TEST(BoostTrain, EarlyStoppingKeepsTheRoundsOfTheLeastValidationLoss) {
  // Noisy labels: after a while more rounds only fit the noise.
  const Rows train = make_rows(3000, 5, 0.35);
  const Rows tail = make_rows(1500, 6, 0.35);
  const auto splits = splits_of(train, 32);
  const TrainingSet validation = set_of(tail, splits);
  BoostOptions o = options(2);
  o.params.num_rounds = 300;
  o.params.max_depth = 6;
  o.params.learning_rate = 0.5;
  o.params.early_stopping_rounds = 5;
  BoostHistory history;
  const Forest forest = boost(set_of(train, splits), o, &validation, &history);
  ASSERT_LT(history.rounds, 300) << "the loss kept improving";
  ASSERT_EQ(history.validation_loss.size(), static_cast<size_t>(history.rounds));
  EXPECT_EQ(history.rounds - history.best_round, 5);
  EXPECT_EQ(forest.trees().size(), static_cast<size_t>(history.best_round) * 3);
  const auto least =
      std::min_element(history.validation_loss.begin(), history.validation_loss.end());
  EXPECT_EQ(least - history.validation_loss.begin() + 1, history.best_round);
  // The loss kept is the one the kept trees give.
  const auto proba = forest.predict_proba(validation, 0, validation.rows(), 1);
  double loss = 0;
  for (size_t r = 0; r < validation.rows(); ++r)
    loss -= std::log(proba[r * 3 + validation.labels()[r]]);
  EXPECT_NEAR(loss / static_cast<double>(validation.rows()), *least, 1e-9);
  // Without validation rows early stopping cannot watch anything.
  const TrainingSet none(splits, train.blocks);
  EXPECT_THROW(boost(set_of(train, splits), o, &none), Failure);
}

TEST(BoostTrain, JsonRoundTripKeepsEveryProbability) {
  const Rows d = make_rows(3000, 8, 0.1);
  const auto splits = splits_of(d, 32);
  const TrainingSet set = set_of(d, splits);
  const Forest forest = boost(set, options(2));
  const nlohmann::json json = forest.to_json();
  EXPECT_EQ(json[kAlgorithmField], kGradientBoostedTreesName);
  const Forest loaded = Forest::from_json(json);
  EXPECT_EQ(loaded.to_json().dump(), json.dump());
  const MatrixView view{d.x, d.rows, d.cols()};
  // From the values, from the codes, before and after the round trip.
  const auto from_values = loaded.predict_proba(view, 2);
  EXPECT_EQ(forest.predict_proba(view, 1), from_values);
  EXPECT_EQ(forest.predict_proba(set, 0, set.rows(), 2), from_values);
  EXPECT_EQ(loaded.feature_importances(), forest.feature_importances());
  // A broken boosted forest is a data error.
  nlohmann::json broken = json;
  broken["trees"][0]["class"] = 3;
  EXPECT_THROW(Forest::from_json(broken), Failure);
  broken = json;
  broken["trees"][1]["value"].erase(0);
  EXPECT_THROW(Forest::from_json(broken), Failure);
  broken = json;
  broken["baseScore"] = {0.0};
  EXPECT_THROW(Forest::from_json(broken), Failure);
}

}  // namespace
}  // namespace loadcast::forest::boosting_test
