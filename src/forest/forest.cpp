#include "forest/forest.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "common/error.h"
#include "forest/criterion.h"
#include "forest/sampling.h"

namespace loadcast::forest {

int features_per_node(std::string_view strategy, int num_features) {
  const double n = num_features;
  int k = 0;
  if (strategy == "all") {
    k = num_features;
  } else if (strategy == "sqrt") {
    k = static_cast<int>(std::ceil(std::sqrt(n)));
  } else if (strategy == "log2") {
    k = static_cast<int>(std::ceil(std::log2(n)));
  } else if (strategy == "onethird") {
    k = static_cast<int>(std::ceil(n / 3.0));
  } else {
    fail_usage("unknown featureSubsetStrategy '" + std::string(strategy) +
               "' (expected all, sqrt, log2 or onethird)");
  }
  return std::clamp(k, 1, std::max(1, num_features));
}

int Tree::depth() const {
  // Children always follow their parent in `nodes`, so one forward pass works.
  std::vector<int> level(nodes.size(), 0);
  int deepest = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    deepest = std::max(deepest, level[i]);
    if (nodes[i].feature >= 0) {
      level[nodes[i].left] = level[i] + 1;
      level[nodes[i].right] = level[i] + 1;
    }
  }
  return deepest;
}

namespace {

constexpr uint64_t kBootstrapSalt = 0xB0075742ULL;
constexpr uint64_t kFeatureSalt = 0xFEA7E5ULL;

// Everything one tree needs; trees are grown independently.
struct TreeGrower {
  const BinnedMatrix* bins;
  size_t rows;
  size_t cols;
  std::span<const uint8_t> labels;
  std::span<const uint64_t> row_keys;
  std::span<const FeatureSplits> splits;
  int num_classes;
  int max_bins;  // the widest feature's bin count
  int subset;    // features tried per node
  const ForestParams* params;
  const Criterion* criterion;

  Tree grow(int tree_index) const;
};

Tree TreeGrower::grow(int tree_index) const {
  const int K = num_classes;
  const bool bootstrap = params->num_trees > 1;  // Spark: a single tree sees every row once
  const double rate = params->subsampling_rate;

  // Bootstrap weights; rows drawn zero times take no part in this tree.
  std::vector<uint8_t> weight(rows, 0);
  std::vector<uint32_t> index;
  index.reserve(rows);
  for (size_t r = 0; r < rows; ++r) {
    const double u = unit_double(hash3(params->seed ^ kBootstrapSalt, tree_index, row_keys[r]));
    int w = 1;
    if (bootstrap) {
      w = poisson_from_uniform(u, rate);
    } else if (rate < 1.0) {
      w = u < rate ? 1 : 0;
    }
    if (w == 0) continue;
    weight[r] = static_cast<uint8_t>(w);
    index.push_back(static_cast<uint32_t>(r));
  }

  Tree tree;
  tree.nodes.emplace_back();
  // The 32-bit histogram counters must hold the root's total weight.
  uint64_t total_weight = 0;
  for (uint32_t r : index) total_weight += weight[r];
  if (total_weight > std::numeric_limits<uint32_t>::max()) {
    fail_data("forest training: more than 2^32 sampled rows in one tree");
  }
  tree.counts.assign(K, 0.0);
  for (uint32_t r : index) tree.counts[labels[r]] += weight[r];

  struct Work {
    int32_t node;
    uint32_t begin;
    uint32_t end;
    uint64_t id;  // heap numbering (root 1): names the node for its feature draw
  };
  std::vector<Work> frontier = {{0, 0, static_cast<uint32_t>(index.size()), 1}};
  std::vector<Work> next;
  std::vector<uint64_t> hist;
  std::vector<uint32_t> hist2;
  std::vector<int> order(cols);
  std::vector<int> selected(subset);
  std::vector<uint32_t> right_rows;
  std::vector<uint32_t> sel_offset(subset);
  std::vector<uint8_t> sel_shift(subset), sel_mask(subset);
  std::vector<double> left(K), right(K), best_left(K);

  for (int depth = 0; !frontier.empty(); ++depth) {
    next.clear();
    for (const Work& work : frontier) {
      if (depth >= params->max_depth || work.end - work.begin < 2) continue;
      const double* counts = &tree.counts[static_cast<size_t>(work.node) * K];
      const double total = std::accumulate(counts, counts + K, 0.0);
      const double parent_impurity = criterion->impurity({counts, static_cast<size_t>(K)}, total);
      if (parent_impurity <= 0) continue;

      // A random subset of features, drawn from this node's own stream.
      SplitMix rng(hash3(params->seed ^ kFeatureSalt, tree_index, work.id));
      std::iota(order.begin(), order.end(), 0);
      for (int j = 0; j < subset; ++j) {
        const size_t pick = j + rng.below(cols - j);
        std::swap(order[j], order[pick]);
        selected[j] = order[j];
      }
      std::sort(selected.begin(), selected.end());

      // Class histograms of the selected features over the node's rows. Two
      // copies, for even and odd positions, halve the chains of increments
      // to the same counter (one-hot columns hit the same bin row after row).
      const size_t hist_size = static_cast<size_t>(subset) * max_bins * K;
      hist2.assign(2 * hist_size, 0);
      for (int j = 0; j < subset; ++j) {
        const int f = selected[j];
        sel_offset[j] = bins->byte_offset[f];
        sel_shift[j] = bins->shift[f];
        sel_mask[j] = bins->mask[f];
      }
      const uint8_t* packed = bins->data.data();
      const size_t stride = bins->stride;
      for (uint32_t i = work.begin; i < work.end; ++i) {
        const uint32_t r = index[i];
        const uint8_t* row = packed + static_cast<size_t>(r) * stride;
        const uint32_t w = weight[r];
        uint32_t* h = hist2.data() + (i & 1) * hist_size + labels[r];
        for (int j = 0; j < subset; ++j) {
          const unsigned b = (row[sel_offset[j]] >> sel_shift[j]) & sel_mask[j];
          h[(static_cast<size_t>(j) * max_bins + b) * K] += w;
        }
      }
      hist.resize(hist_size);
      for (size_t e = 0; e < hist_size; ++e) {
        hist[e] = static_cast<uint64_t>(hist2[e]) + hist2[hist_size + e];
      }

      // Best threshold: highest gain; ties keep the lower feature, then the
      // lower threshold. Both children must hold weight.
      double best_gain = 0;
      int best_feature = -1;
      int best_bin = -1;
      for (int j = 0; j < subset; ++j) {
        const int f = selected[j];
        const int num_thresholds = static_cast<int>(splits[f].thresholds.size());
        std::fill(left.begin(), left.end(), 0.0);
        double left_total = 0;
        for (int t = 0; t < num_thresholds; ++t) {
          const uint64_t* h = hist.data() + (static_cast<size_t>(j) * max_bins + t) * K;
          for (int k = 0; k < K; ++k) {
            left[k] += static_cast<double>(h[k]);
            left_total += static_cast<double>(h[k]);
          }
          const double right_total = total - left_total;
          if (left_total <= 0) continue;
          if (right_total <= 0) break;
          for (int k = 0; k < K; ++k) right[k] = counts[k] - left[k];
          const double gain = parent_impurity -
                              left_total / total * criterion->impurity(left, left_total) -
                              right_total / total * criterion->impurity(right, right_total);
          if (gain > best_gain) {
            best_gain = gain;
            best_feature = f;
            best_bin = t;
            best_left = left;
          }
        }
      }
      if (best_feature < 0) continue;

      // Stable partition of the node's rows: left in place, right after.
      const uint8_t* split_bytes = bins->data.data() + bins->byte_offset[best_feature];
      const unsigned split_shift = bins->shift[best_feature];
      const unsigned split_mask = bins->mask[best_feature];
      const size_t split_stride = bins->stride;
      uint32_t write = work.begin;
      right_rows.clear();
      for (uint32_t i = work.begin; i < work.end; ++i) {
        const uint32_t r = index[i];
        const unsigned b =
            (split_bytes[static_cast<size_t>(r) * split_stride] >> split_shift) & split_mask;
        if (b <= static_cast<unsigned>(best_bin)) {
          index[write++] = r;
        } else {
          right_rows.push_back(r);
        }
      }
      std::copy(right_rows.begin(), right_rows.end(), index.begin() + write);

      const auto left_node = static_cast<int32_t>(tree.nodes.size());
      const int32_t right_node = left_node + 1;
      {
        Tree::Node& node = tree.nodes[work.node];
        node.feature = best_feature;
        node.threshold = splits[best_feature].thresholds[best_bin];
        node.left = left_node;
        node.right = right_node;
        node.gain = best_gain;
      }
      tree.nodes.emplace_back();
      tree.nodes.emplace_back();
      const size_t parent_offset = static_cast<size_t>(work.node) * K;
      tree.counts.insert(tree.counts.end(), best_left.begin(), best_left.end());
      for (int k = 0; k < K; ++k) {
        tree.counts.push_back(tree.counts[parent_offset + k] - best_left[k]);
      }
      next.push_back({left_node, work.begin, write, work.id * 2});
      next.push_back({right_node, write, work.end, work.id * 2 + 1});
    }
    frontier.swap(next);
  }
  return tree;
}

void normalise(Tree& tree, int K) {
  tree.probabilities.assign(tree.counts.size(), 0.0);
  for (size_t n = 0; n < tree.nodes.size(); ++n) {
    const double* c = &tree.counts[n * K];
    const double total = std::accumulate(c, c + K, 0.0);
    if (total <= 0) continue;
    for (int k = 0; k < K; ++k) tree.probabilities[n * K + k] = c[k] / total;
  }
}

}  // namespace

Forest Forest::train(const MatrixView& x, std::span<const uint8_t> labels,
                     std::span<const uint64_t> row_keys, int num_classes,
                     const TrainOptions& options) {
  if (x.rows == 0) fail_data("cannot train a forest on zero rows");
  if (labels.size() != x.rows || row_keys.size() != x.rows) {
    fail_internal("forest training: matrix, labels and row keys differ in length");
  }
  if (x.rows > std::numeric_limits<uint32_t>::max()) {
    fail_data("forest training supports at most 2^32-1 rows");
  }
  for (uint8_t label : labels) {
    if (label >= num_classes) fail_internal("forest training: label out of range");
  }
  const ForestParams& p = options.params;
  if (p.num_trees < 1 || p.max_depth < 0 || p.max_bins < 2 || p.max_bins > 256 ||
      !(p.subsampling_rate > 0 && p.subsampling_rate <= 1)) {
    fail_usage("invalid forest parameters");
  }
  const int threads = std::max(1, options.threads);
  const auto criterion = make_criterion(options.impurity);

  Forest forest;
  forest.num_classes_ = num_classes;
  forest.num_features_ = static_cast<int>(x.cols);
  forest.options_ = options;
  forest.options_.threads = 1;  // not part of the model

  const auto splits = find_splits(x, row_keys, p.max_bins, options.quantile_sample, threads);
  const auto bins = bin_matrix(x, splits, threads);
  int max_bins = 1;
  for (const auto& s : splits) max_bins = std::max(max_bins, s.num_bins());

  const TreeGrower grower{&bins,
                          x.rows,
                          x.cols,
                          labels,
                          row_keys,
                          splits,
                          num_classes,
                          max_bins,
                          features_per_node(p.feature_subset_strategy, static_cast<int>(x.cols)),
                          &p,
                          criterion.get()};
  forest.trees_.resize(p.num_trees);
  std::atomic<int> next_tree{0};
  auto worker = [&] {
    for (int t = next_tree++; t < p.num_trees; t = next_tree++) {
      forest.trees_[t] = grower.grow(t);
      normalise(forest.trees_[t], num_classes);
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int i = 1; i < std::min(threads, p.num_trees); ++i) pool.emplace_back(worker);
    worker();
  }
  return forest;
}

void Forest::predict_row(const float* row, double* out) const {
  const int K = num_classes_;
  std::fill(out, out + K, 0.0);
  for (const Tree& tree : trees_) {
    int32_t n = 0;
    while (tree.nodes[n].feature >= 0) {
      const Tree::Node& node = tree.nodes[n];
      n = row[node.feature] <= node.threshold ? node.left : node.right;
    }
    const double* p = &tree.probabilities[static_cast<size_t>(n) * K];
    for (int k = 0; k < K; ++k) out[k] += p[k];
  }
  const double scale = 1.0 / static_cast<double>(trees_.size());
  for (int k = 0; k < K; ++k) out[k] *= scale;
}

std::vector<double> Forest::predict_proba(const MatrixView& x, int threads) const {
  if (x.cols != static_cast<size_t>(num_features_)) {
    fail_internal("forest expects " + std::to_string(num_features_) + " features, got " +
                  std::to_string(x.cols));
  }
  std::vector<double> proba(x.rows * num_classes_);
  const size_t workers = std::clamp<size_t>(threads, 1, std::max<size_t>(1, x.rows / 512));
  auto run = [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) predict_row(x.row(r), proba.data() + r * num_classes_);
  };
  {
    std::vector<std::jthread> pool;
    const size_t chunk = (x.rows + workers - 1) / workers;
    for (size_t w = 1; w < workers; ++w) {
      const size_t begin = std::min(x.rows, w * chunk);
      pool.emplace_back(run, begin, std::min(x.rows, begin + chunk));
    }
    run(0, std::min(x.rows, chunk));
  }
  return proba;
}

std::vector<int> Forest::argmax(std::span<const double> proba, int num_classes) {
  std::vector<int> out(proba.size() / num_classes);
  for (size_t r = 0; r < out.size(); ++r) {
    const double* p = proba.data() + r * num_classes;
    int best = 0;
    for (int k = 1; k < num_classes; ++k) {
      if (p[k] > p[best]) best = k;
    }
    out[r] = best;
  }
  return out;
}

std::vector<double> Forest::feature_importances() const {
  std::vector<double> total(num_features_, 0.0);
  const int K = num_classes_;
  for (const Tree& tree : trees_) {
    std::vector<double> imp(num_features_, 0.0);
    for (size_t n = 0; n < tree.nodes.size(); ++n) {
      const auto& node = tree.nodes[n];
      if (node.feature < 0) continue;
      const double* c = &tree.counts[n * K];
      imp[node.feature] += node.gain * std::accumulate(c, c + K, 0.0);
    }
    const double sum = std::accumulate(imp.begin(), imp.end(), 0.0);
    if (sum <= 0) continue;
    for (int f = 0; f < num_features_; ++f) total[f] += imp[f] / sum;
  }
  const double sum = std::accumulate(total.begin(), total.end(), 0.0);
  if (sum > 0) {
    for (double& v : total) v /= sum;
  }
  return total;
}

nlohmann::json Forest::to_json() const {
  const ForestParams& p = options_.params;
  nlohmann::json json;
  json["format"] = "loadcast-forest";
  json["formatVersion"] = kFormatVersion;
  json["numClasses"] = num_classes_;
  json["numFeatures"] = num_features_;
  json["params"] = {{"numTrees", p.num_trees},
                    {"maxDepth", p.max_depth},
                    {"seed", p.seed},
                    {"maxBins", p.max_bins},
                    {"featureSubsetStrategy", p.feature_subset_strategy},
                    {"subsamplingRate", p.subsampling_rate},
                    {"impurity", options_.impurity},
                    {"quantileSample", options_.quantile_sample}};
  auto& trees = json["trees"] = nlohmann::json::array();
  for (const Tree& tree : trees_) {
    nlohmann::json t;
    std::vector<int32_t> feature, left, right;
    std::vector<double> threshold, gain;
    for (const auto& node : tree.nodes) {
      feature.push_back(node.feature);
      threshold.push_back(node.threshold);
      left.push_back(node.left);
      right.push_back(node.right);
      gain.push_back(node.gain);
    }
    t["feature"] = feature;
    t["threshold"] = threshold;
    t["left"] = left;
    t["right"] = right;
    t["gain"] = gain;
    t["counts"] = tree.counts;
    trees.push_back(std::move(t));
  }
  return json;
}

Forest Forest::from_json(const nlohmann::json& json) {
  Forest forest;
  try {
    if (json.at("format").get<std::string>() != "loadcast-forest") {
      fail_data("not a loadcast forest");
    }
    const int version = json.at("formatVersion").get<int>();
    if (version != kFormatVersion) {
      fail_data("forest format version " + std::to_string(version) +
                " is not supported (expected " + std::to_string(kFormatVersion) + ")");
    }
    forest.num_classes_ = json.at("numClasses").get<int>();
    forest.num_features_ = json.at("numFeatures").get<int>();
    const auto& p = json.at("params");
    auto& o = forest.options_;
    o.params.num_trees = p.at("numTrees").get<int>();
    o.params.max_depth = p.at("maxDepth").get<int>();
    o.params.seed = p.at("seed").get<uint64_t>();
    o.params.max_bins = p.at("maxBins").get<int>();
    o.params.feature_subset_strategy = p.at("featureSubsetStrategy").get<std::string>();
    o.params.subsampling_rate = p.at("subsamplingRate").get<double>();
    o.impurity = p.at("impurity").get<std::string>();
    o.quantile_sample = p.at("quantileSample").get<size_t>();
    const int K = forest.num_classes_;
    if (K < 1 || forest.num_features_ < 0) fail_data("bad forest: class or feature count");
    for (const auto& t : json.at("trees")) {
      Tree tree;
      const auto feature = t.at("feature").get<std::vector<int32_t>>();
      const auto threshold = t.at("threshold").get<std::vector<double>>();
      const auto left = t.at("left").get<std::vector<int32_t>>();
      const auto right = t.at("right").get<std::vector<int32_t>>();
      const auto gain = t.at("gain").get<std::vector<double>>();
      tree.counts = t.at("counts").get<std::vector<double>>();
      const size_t n = feature.size();
      if (n == 0 || threshold.size() != n || left.size() != n || right.size() != n ||
          gain.size() != n || tree.counts.size() != n * K) {
        fail_data("bad forest: tree arrays differ in length");
      }
      for (size_t i = 0; i < n; ++i) {
        // Children must come after their parent: this also rules out cycles.
        if (feature[i] >= forest.num_features_ ||
            (feature[i] >= 0 &&
             (left[i] <= static_cast<int32_t>(i) || right[i] <= static_cast<int32_t>(i) ||
              left[i] >= static_cast<int32_t>(n) || right[i] >= static_cast<int32_t>(n)))) {
          fail_data("bad forest: node " + std::to_string(i) + " has an invalid feature or child");
        }
        tree.nodes.push_back(
            {feature[i], static_cast<float>(threshold[i]), left[i], right[i], gain[i]});
      }
      normalise(tree, K);
      forest.trees_.push_back(std::move(tree));
    }
    if (forest.trees_.empty()) fail_data("bad forest: no trees");
  } catch (const nlohmann::json::exception& e) {
    fail_data(std::string("bad forest: ") + e.what());
  }
  return forest;
}

}  // namespace loadcast::forest
