// The histogram random forest: learning, determinism across threads, row
// order and ranks (simulated by threads), seeds, binning and serialization.
#include "forest/forest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "forest/sampling.h"
#include "support/thread_communicator.h"

namespace loadcast::forest {
namespace {

// Three classes separated by x0 (thresholds 0.33 / 0.66) with a binary
// feature that flips the top class, plus noise columns.
struct Synthetic {
  size_t rows = 0;
  size_t cols = 6;
  std::vector<float> x;
  std::vector<uint8_t> y;
  std::vector<uint64_t> keys;
  MatrixView view() const { return {x, rows, cols}; }
};

Synthetic make_data(size_t rows, uint64_t seed) {
  Synthetic d;
  d.rows = rows;
  SplitMix rng(seed);
  for (size_t r = 0; r < rows; ++r) {
    const float x0 = static_cast<float>(unit_double(rng.next()));
    const float flag = rng.below(2) ? 1.0f : 0.0f;
    d.x.push_back(x0);
    d.x.push_back(flag);
    for (size_t c = 2; c < d.cols; ++c) d.x.push_back(static_cast<float>(unit_double(rng.next())));
    uint8_t label = x0 < 0.33f ? 0 : (x0 < 0.66f ? 1 : 2);
    if (label == 2 && flag == 1.0f) label = 1;
    d.y.push_back(label);
    d.keys.push_back(row_key("10.0.0." + std::to_string(r % 7), static_cast<int64_t>(r) * 3600));
  }
  return d;
}

TrainOptions small_options(int threads, uint64_t seed = 42) {
  TrainOptions o;
  o.params.num_trees = 12;
  o.params.max_depth = 6;
  o.params.seed = seed;
  o.params.max_bins = 32;
  o.threads = threads;
  return o;
}

double accuracy(const Forest& forest, const Synthetic& d) {
  const auto best = Forest::argmax(forest.predict_proba(d.view(), 2), forest.num_classes());
  size_t correct = 0;
  for (size_t r = 0; r < d.rows; ++r) correct += best[r] == d.y[r];
  return static_cast<double>(correct) / static_cast<double>(d.rows);
}

TEST(ForestTrain, LearnsASeparableProblem) {
  const auto train = make_data(3000, 1);
  const auto test = make_data(1000, 2);
  const Forest forest = Forest::train(train.view(), train.y, train.keys, 3, small_options(2));
  EXPECT_EQ(forest.trees().size(), 12u);
  EXPECT_GT(accuracy(forest, train), 0.97);
  EXPECT_GT(accuracy(forest, test), 0.95);
  for (const auto& tree : forest.trees()) EXPECT_LE(tree.depth(), 6);
  // Probabilities are distributions.
  const auto proba = forest.predict_proba(test.view());
  for (size_t r = 0; r < test.rows; ++r) {
    EXPECT_NEAR(proba[3 * r] + proba[3 * r + 1] + proba[3 * r + 2], 1.0, 1e-12);
  }
  // The informative features carry the importance.
  const auto importance = forest.feature_importances();
  EXPECT_GT(importance[0] + importance[1], 0.8);
}

TEST(ForestTrain, SameBytesForAnyThreadCount) {
  const auto d = make_data(2000, 3);
  const auto one = Forest::train(d.view(), d.y, d.keys, 3, small_options(1)).to_json().dump();
  const auto two = Forest::train(d.view(), d.y, d.keys, 3, small_options(2)).to_json().dump();
  const auto five = Forest::train(d.view(), d.y, d.keys, 3, small_options(5)).to_json().dump();
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, five);
}

TEST(ForestTrain, SameBytesForShuffledRows) {
  const auto d = make_data(2000, 4);
  std::vector<size_t> order(d.rows);
  std::iota(order.begin(), order.end(), 0);
  SplitMix rng(99);
  for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  Synthetic s = d;
  for (size_t i = 0; i < d.rows; ++i) {
    std::copy_n(d.x.begin() + order[i] * d.cols, d.cols, s.x.begin() + i * d.cols);
    s.y[i] = d.y[order[i]];
    s.keys[i] = d.keys[order[i]];
  }
  const auto a = Forest::train(d.view(), d.y, d.keys, 3, small_options(2)).to_json().dump();
  const auto b = Forest::train(s.view(), s.y, s.keys, 3, small_options(1)).to_json().dump();
  EXPECT_EQ(a, b);
}

// Rows dealt to `ranks` ranks by `owner(row)`; each rank trains on its own.
template <typename Owner>
std::vector<std::string> train_on_ranks(const Synthetic& d, int ranks, Owner owner,
                                        const TrainOptions& options,
                                        std::vector<TrainStats>* stats = nullptr) {
  std::vector<std::string> forests(ranks);
  if (stats) stats->assign(ranks, {});
  testing::run_ranks(ranks, [&](dist::Communicator& comm) {
    Synthetic mine;
    mine.cols = d.cols;
    for (size_t r = 0; r < d.rows; ++r) {
      if (owner(r) != comm.rank()) continue;
      mine.x.insert(mine.x.end(), d.x.begin() + r * d.cols, d.x.begin() + (r + 1) * d.cols);
      mine.y.push_back(d.y[r]);
      mine.keys.push_back(d.keys[r]);
      ++mine.rows;
    }
    forests[comm.rank()] = Forest::train(mine.view(), mine.y, mine.keys, 3, options, comm,
                                         stats ? &(*stats)[comm.rank()] : nullptr)
                               .to_json()
                               .dump();
  });
  return forests;
}

TEST(ForestRanks, SameBytesWhateverTheRanksAndTheSpreadOfRows) {
  const auto d = make_data(2000, 9);
  const auto one = Forest::train(d.view(), d.y, d.keys, 3, small_options(2)).to_json().dump();
  for (int ranks : {2, 3, 4}) {
    SCOPED_TRACE("ranks " + std::to_string(ranks));
    auto dealt = train_on_ranks(
        d, ranks, [&](size_t r) { return static_cast<int>(r % ranks); }, small_options(1));
    auto blocks = train_on_ranks(
        d, ranks, [&](size_t r) { return static_cast<int>(r * ranks / d.rows); }, small_options(2));
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(dealt[r], one) << "rank " << r;
      EXPECT_EQ(blocks[r], one) << "rank " << r;
    }
  }
  // A rank without rows still takes part.
  for (const auto& forest : train_on_ranks(
           d, 3, [](size_t r) { return r < 1500 ? 0 : 2; }, small_options(1)))
    EXPECT_EQ(forest, one);
}

TEST(ForestRanks, QuantileSampleIsTheSameOverRanks) {
  const auto d = make_data(3000, 10);
  auto options = small_options(2);
  options.quantile_sample = 500;
  const auto one = Forest::train(d.view(), d.y, d.keys, 3, options).to_json().dump();
  for (const auto& forest : train_on_ranks(
           d, 3, [](size_t r) { return static_cast<int>(r % 3); }, options))
    EXPECT_EQ(forest, one);
}

TEST(ForestRanks, CountsWhatTheHistogramsExchange) {
  const auto d = make_data(1500, 11);
  std::vector<TrainStats> stats;
  train_on_ranks(
      d, 2, [](size_t r) { return static_cast<int>(r % 2); }, small_options(1), &stats);
  for (const auto& s : stats) {
    // Root counts, then a round per level.
    EXPECT_GE(s.allreduce_calls, 2);
    EXPECT_EQ(s.allreduce_bytes, stats[0].allreduce_bytes);
    EXPECT_GT(s.allreduce_bytes, 0);
  }
}

TEST(ForestRanks, NoRowsOnAnyRankIsADataError) {
  const Synthetic empty;
  EXPECT_THROW(testing::run_ranks(2,
                                  [&](dist::Communicator& comm) {
                                    Forest::train(empty.view(), empty.y, empty.keys, 3,
                                                  small_options(1), comm);
                                  }),
               Failure);
}

TEST(ForestTrain, SeedChangesTheForest) {
  const auto d = make_data(1500, 5);
  const auto a = Forest::train(d.view(), d.y, d.keys, 3, small_options(2, 42)).to_json().dump();
  const auto b = Forest::train(d.view(), d.y, d.keys, 3, small_options(2, 43)).to_json().dump();
  EXPECT_NE(a, b);
}

TEST(ForestTrain, QuantileSampleIsOrderFree) {
  // Binning on a sample of the rows still gives the same forest for a
  // shuffled table, since the sample is chosen by row key.
  auto d = make_data(3000, 6);
  auto options = small_options(2);
  options.quantile_sample = 500;
  const auto a = Forest::train(d.view(), d.y, d.keys, 3, options).to_json().dump();
  std::reverse(d.y.begin(), d.y.end());
  std::reverse(d.keys.begin(), d.keys.end());
  std::vector<float> reversed(d.x.size());
  for (size_t r = 0; r < d.rows; ++r) {
    std::copy_n(d.x.begin() + r * d.cols, d.cols, reversed.begin() + (d.rows - 1 - r) * d.cols);
  }
  d.x = reversed;
  EXPECT_EQ(a, Forest::train(d.view(), d.y, d.keys, 3, options).to_json().dump());
}

TEST(ForestTrain, JsonRoundTrip) {
  const auto d = make_data(1500, 7);
  const Forest forest = Forest::train(d.view(), d.y, d.keys, 3, small_options(2));
  const std::string text = forest.to_json().dump();
  const Forest loaded = Forest::from_json(nlohmann::json::parse(text));
  EXPECT_EQ(loaded.to_json().dump(), text);
  EXPECT_EQ(loaded.predict_proba(d.view()), forest.predict_proba(d.view()));

  auto bad = nlohmann::json::parse(text);
  bad["formatVersion"] = 7;
  EXPECT_THROW(Forest::from_json(bad), Failure);
  bad = nlohmann::json::parse(text);
  bad["trees"][0]["left"][0] = 0;  // a cycle
  EXPECT_THROW(Forest::from_json(bad), Failure);
}

TEST(ForestBinning, QuantileThresholds) {
  Synthetic d = make_data(5000, 8);
  const auto splits = find_splits(d.view(), d.keys, 16, 100000, 2);
  ASSERT_EQ(splits.size(), d.cols);
  EXPECT_LE(splits[0].thresholds.size(), 15u);
  EXPECT_GE(splits[0].thresholds.size(), 12u);
  EXPECT_TRUE(std::is_sorted(splits[0].thresholds.begin(), splits[0].thresholds.end()));
  // Near-uniform data: thresholds near the sixteenths.
  EXPECT_NEAR(splits[0].thresholds[7], 0.5, 0.05);
  // A binary feature gets one threshold between its values.
  ASSERT_EQ(splits[1].thresholds.size(), 1u);
  EXPECT_EQ(splits[1].thresholds[0], 0.5f);
  TrainingSet bins(splits, {});
  for (size_t r = 0; r < d.rows; ++r) bins.add_dense(d.x.data() + r * d.cols, d.y[r], d.keys[r]);
  for (size_t r = 0; r < d.rows; ++r) {
    EXPECT_EQ(bins.bin(r, 1), d.x[r * d.cols + 1] == 1.0f ? 1 : 0);
    const auto& t = splits[0].thresholds;
    const float v = d.x[r * d.cols];
    const size_t b0 = static_cast<size_t>(bins.bin(r, 0));
    if (b0 > 0) {
      EXPECT_GT(v, t[b0 - 1]);
    }
    if (b0 < t.size()) {
      EXPECT_LE(v, t[b0]);
    }
  }
}

TEST(ForestBinning, AOneHotBlockIsOneCodePerRow) {
  // A numeric column and a block of 300 one-hot columns (one of them never
  // 1): a byte and a two-byte code per row, and the same bins as the values.
  const size_t rows = 600, cols = 301;
  std::vector<float> x(rows * cols);
  std::vector<uint64_t> keys(rows);
  for (size_t r = 0; r < rows; ++r) {
    keys[r] = r;
    x[r * cols] = static_cast<float>(r);
    if (r % 300 != 299) x[r * cols + 1 + r % 300] = 1.0f;
  }
  const MatrixView view{x, rows, cols};
  const auto splits = find_splits(view, keys, 8, 1000, 1);
  EXPECT_TRUE(splits[300].thresholds.empty());
  const std::array blocks{OneHotBlock{1, 300}};
  TrainingSet set(splits, blocks);
  EXPECT_EQ(set.row_bytes(), 3u);
  for (size_t r = 0; r < rows; ++r) {
    const float numeric = x[r * cols];
    const auto code = static_cast<uint16_t>(r % 300);
    set.add({&numeric, 1}, {&code, 1}, 0, keys[r]);
  }
  TrainingSet dense(splits, {});
  for (size_t r = 0; r < rows; ++r) dense.add_dense(x.data() + r * cols, 0, keys[r]);
  for (size_t r = 0; r < rows; ++r) {
    for (int c = 0; c < static_cast<int>(cols); ++c) {
      EXPECT_EQ(set.bin(r, c), dense.bin(r, c)) << r << " " << c;
      EXPECT_EQ(set.bin(r, c), splits[c].bin_of(x[r * cols + c]));
    }
  }
}

TEST(ForestBinning, ConstantFeatureHasNoThreshold) {
  std::vector<float> x(100, 3.0f);
  std::vector<uint64_t> keys(100);
  std::iota(keys.begin(), keys.end(), 0);
  const auto splits = find_splits({x, 100, 1}, keys, 32, 1000, 1);
  EXPECT_TRUE(splits[0].thresholds.empty());
}

TEST(ForestParams, FeaturesPerNode) {
  EXPECT_EQ(features_per_node("sqrt", 60), 8);
  EXPECT_EQ(features_per_node("log2", 60), 6);
  EXPECT_EQ(features_per_node("onethird", 60), 20);
  EXPECT_EQ(features_per_node("all", 60), 60);
  EXPECT_THROW(features_per_node("half", 60), Failure);
}

TEST(ForestSampling, PoissonMeanIsOne) {
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) sum += poisson_from_uniform(unit_double(hash3(42, 0, i)), 1.0);
  EXPECT_NEAR(sum / n, 1.0, 0.01);
}

}  // namespace
}  // namespace loadcast::forest

namespace loadcast::forest {
namespace {

// Rows with two numeric features and two one-hot blocks, one of them of
// 300 categories (two-byte codes): the label follows the numeric feature,
// and a few categories flip it.
struct OneHotData {
  static constexpr int kNarrow = 7;
  static constexpr int kWide = 300;
  size_t rows = 0;
  size_t cols = 2 + kNarrow + kWide;
  std::vector<float> x;  // dense: the one-hot matrix
  std::vector<std::array<uint16_t, 2>> codes;
  std::vector<uint8_t> y;
  std::vector<uint64_t> keys;
  std::array<OneHotBlock, 2> blocks{OneHotBlock{1, kNarrow}, OneHotBlock{1 + kNarrow, kWide}};
};

OneHotData make_one_hot(size_t rows) {
  OneHotData d;
  d.rows = rows;
  SplitMix rng(77);
  for (size_t r = 0; r < rows; ++r) {
    const float x0 = static_cast<float>(unit_double(rng.next()));
    // Code kNarrow / kWide: the dropped last category (all zeros).
    const auto narrow = static_cast<uint16_t>(rng.below(OneHotData::kNarrow + 1));
    const auto wide = static_cast<uint16_t>(rng.below(OneHotData::kWide + 1));
    const size_t at = d.x.size();
    d.x.resize(at + d.cols, 0.0f);
    d.x[at] = x0;
    if (narrow < OneHotData::kNarrow) d.x[at + 1 + narrow] = 1.0f;
    if (wide < OneHotData::kWide) d.x[at + 1 + OneHotData::kNarrow + wide] = 1.0f;
    d.x[at + d.cols - 1] = static_cast<float>(unit_double(rng.next()));
    d.codes.push_back({narrow, wide});
    uint8_t label = x0 < 0.4f ? 0 : (x0 < 0.7f ? 1 : 2);
    if (wide % 5 == 0 || narrow == 2) label = static_cast<uint8_t>((label + 1) % 3);
    d.y.push_back(label);
    d.keys.push_back(row_key("10.1.0." + std::to_string(r % 11), static_cast<int64_t>(r) * 3600));
  }
  return d;
}

// The compact set of the rows [begin, end) of rank `rank` of `ranks` (rows
// dealt by index).
TrainingSet compact_set(const OneHotData& d, const std::vector<FeatureSplits>& splits, int rank,
                        int ranks) {
  TrainingSet set(splits, d.blocks);
  for (size_t r = static_cast<size_t>(rank); r < d.rows; r += static_cast<size_t>(ranks)) {
    const float* row = d.x.data() + r * d.cols;
    const std::array<float, 2> numeric{row[0], row[d.cols - 1]};
    set.add(numeric, d.codes[r], d.y[r], d.keys[r]);
  }
  return set;
}

TEST(ForestCompact, OneHotBlocksGrowTheTreesOfTheDenseMatrix) {
  const OneHotData d = make_one_hot(6000);
  TrainOptions options = small_options(2);
  options.params.num_trees = 8;
  options.params.max_depth = 7;
  options.params.feature_subset_strategy = "onethird";
  const MatrixView view{d.x, d.rows, d.cols};
  const Forest dense = Forest::train(view, d.y, d.keys, 3, options);
  const auto splits =
      find_splits(view, d.keys, options.params.max_bins, options.quantile_sample, 1);
  const TrainingSet set = compact_set(d, splits, 0, 1);
  EXPECT_EQ(set.row_bytes(), 5u);  // two numeric bins, a one-byte and a two-byte code
  auto local = dist::make_local_communicator();
  const Forest compact = Forest::train(set, 3, options, *local);
  EXPECT_EQ(compact.to_json().dump(), dense.to_json().dump());
  // The wide block's features are split on, not only the numeric ones.
  bool wide_split = false;
  for (const Tree& tree : compact.trees()) {
    for (const auto& node : tree.nodes) wide_split |= node.feature > 1 + OneHotData::kNarrow;
  }
  EXPECT_TRUE(wide_split);
  // Predictions from the codes are those from the values.
  EXPECT_EQ(compact.predict_proba(set, 0, set.rows(), 2), dense.predict_proba(view, 2));
  // A range of the rows answers for those rows.
  const auto all = dense.predict_proba(view, 1);
  EXPECT_EQ(compact.predict_proba(set, 100, 350, 2),
            std::vector<double>(all.begin() + 100 * 3, all.begin() + 350 * 3));

  // Three ranks, each with its own rows, grow the same bytes.
  std::vector<std::string> forests(3);
  testing::run_ranks(3, [&](dist::Communicator& comm) {
    const TrainingSet mine = compact_set(d, splits, comm.rank(), 3);
    forests[comm.rank()] = Forest::train(mine, 3, options, comm).to_json().dump();
  });
  for (const auto& forest : forests) EXPECT_EQ(forest, dense.to_json().dump());
}

TEST(ForestCompact, ABlockWiderThanTwoBytesIsRefused) {
  const std::vector<FeatureSplits> splits(70000);
  const std::array blocks{OneHotBlock{0, 69999}};
  EXPECT_THROW(TrainingSet(splits, blocks), Failure);
}

}  // namespace
}  // namespace loadcast::forest
