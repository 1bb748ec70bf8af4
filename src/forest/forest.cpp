#include "forest/forest.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.h"
#include "common/stopwatch.h"
#include "common/thread_pool.h"
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

// The training options a forest records beside its declared parameters.
constexpr const char* kImpurityField = "impurity";
constexpr const char* kQuantileSampleField = "quantileSample";

constexpr uint64_t kBootstrapSalt = 0xB0075742ULL;
constexpr uint64_t kFeatureSalt = 0xFEA7E5ULL;

// Memory bounds of the level-wise growth; they change how work is cut into
// rounds and batches, never the forest.
constexpr size_t kHistogramBudget = size_t{64} << 20;  // bytes of counts per allreduce
constexpr size_t kRowStateBudget = size_t{512} << 20;  // bootstrap state of one batch of trees

// What every tree of the forest shares.
struct Shape {
  const BinnedMatrix* bins;
  std::span<const uint8_t> labels;
  std::span<const uint64_t> row_keys;
  std::span<const FeatureSplits> splits;
  int num_classes;
  int cols;
  int subset;  // features tried per node
  const ForestParams* params;
  const Criterion* criterion;
};

// A tree while it grows, with this rank's rows: their bootstrap weights, and
// the sampled ones in `index`, those of each open node contiguous.
struct GrowingTree {
  int tree_index = 0;  // in the forest: names the tree for its random draws
  Tree tree;
  std::vector<uint8_t> weight;
  std::vector<uint32_t> index;
};

// A node of the current level that may split.
struct OpenNode {
  int tree;  // position in the batch
  int32_t node;
  uint32_t begin;  // its rows: index[begin, end) of its tree, on this rank
  uint32_t end;
  uint64_t id;                      // heap numbering (root 1): names the node for its feature draw
  std::vector<int> features;        // the drawn subset, ascending
  std::vector<uint32_t> hist_base;  // per drawn feature: its first counter in the histogram
  size_t hist_offset = 0;           // into the round's histogram buffer
  size_t hist_size = 0;
};

struct Split {
  int feature = -1;  // -1: stays a leaf
  int bin = -1;
  double gain = 0;
  std::vector<double> left;
  uint32_t middle = 0;  // index[begin, middle) went left
};

void draw_features(const Shape& s, int tree_index, OpenNode& open) {
  SplitMix rng(hash3(s.params->seed ^ kFeatureSalt, tree_index, open.id));
  std::vector<int> order(s.cols);
  std::iota(order.begin(), order.end(), 0);
  open.features.resize(s.subset);
  for (int j = 0; j < s.subset; ++j) {
    const size_t pick = j + rng.below(s.cols - j);
    std::swap(order[j], order[pick]);
    open.features[j] = order[j];
  }
  std::sort(open.features.begin(), open.features.end());
  // Each feature takes only its own bins (one-hot columns two), which keeps
  // the allreduced histograms small.
  open.hist_base.resize(s.subset);
  uint32_t counters = 0;
  for (int j = 0; j < s.subset; ++j) {
    open.hist_base[j] = counters;
    counters += static_cast<uint32_t>(s.splits[open.features[j]].num_bins() * s.num_classes);
  }
  open.hist_size = counters;
}

// Weighted class counts of the node's rows on this rank, added into `out`.
// Two copies of the counters, for even and odd positions, halve the chains
// of increments to the same counter (one-hot columns hit the same bin row
// after row); `scratch` is the worker's.
void local_histogram(const Shape& s, const GrowingTree& g, const OpenNode& open,
                     std::vector<uint32_t>& scratch, int64_t* out) {
  const int subset = static_cast<int>(open.features.size());
  const BinnedMatrix& bins = *s.bins;
  std::vector<uint32_t> offset(subset);
  std::vector<uint8_t> shift(subset), mask(subset);
  const uint32_t* base = open.hist_base.data();
  for (int j = 0; j < subset; ++j) {
    const int f = open.features[j];
    offset[j] = bins.byte_offset[f];
    shift[j] = bins.shift[f];
    mask[j] = bins.mask[f];
  }
  const size_t size = open.hist_size;
  const int K = s.num_classes;
  scratch.assign(2 * size, 0);
  const uint8_t* packed = bins.data.data();
  for (uint32_t i = open.begin; i < open.end; ++i) {
    const uint32_t r = g.index[i];
    const uint8_t* row = packed + static_cast<size_t>(r) * bins.stride;
    const uint32_t w = g.weight[r];
    uint32_t* h = scratch.data() + (i & 1) * size + s.labels[r];
    for (int j = 0; j < subset; ++j) {
      const unsigned b = (row[offset[j]] >> shift[j]) & mask[j];
      h[base[j] + b * K] += w;
    }
  }
  for (size_t e = 0; e < size; ++e) out[e] += static_cast<int64_t>(scratch[e]) + scratch[size + e];
}

// The best split from the node's global histogram: highest gain; ties keep
// the lower feature, then the lower threshold. Both children must hold weight.
Split best_split(const Shape& s, const double* counts, const OpenNode& open, const int64_t* hist) {
  const int K = s.num_classes;
  const double total = std::accumulate(counts, counts + K, 0.0);
  const double parent_impurity = s.criterion->impurity({counts, static_cast<size_t>(K)}, total);
  Split best;
  std::vector<double> left(K), right(K);
  for (size_t j = 0; j < open.features.size(); ++j) {
    const int f = open.features[j];
    const int num_thresholds = static_cast<int>(s.splits[f].thresholds.size());
    std::fill(left.begin(), left.end(), 0.0);
    double left_total = 0;
    for (int t = 0; t < num_thresholds; ++t) {
      const int64_t* h = hist + open.hist_base[j] + static_cast<size_t>(t) * K;
      for (int k = 0; k < K; ++k) {
        left[k] += static_cast<double>(h[k]);
        left_total += static_cast<double>(h[k]);
      }
      const double right_total = total - left_total;
      if (left_total <= 0) continue;
      if (right_total <= 0) break;
      for (int k = 0; k < K; ++k) right[k] = counts[k] - left[k];
      const double gain = parent_impurity -
                          left_total / total * s.criterion->impurity(left, left_total) -
                          right_total / total * s.criterion->impurity(right, right_total);
      if (gain > best.gain) {
        best.gain = gain;
        best.feature = f;
        best.bin = t;
        best.left = left;
      }
    }
  }
  return best;
}

// Stable partition of the node's rows on this rank: left in place, right after.
uint32_t partition_rows(const Shape& s, GrowingTree& g, const OpenNode& open, const Split& split,
                        std::vector<uint32_t>& right_rows) {
  const BinnedMatrix& bins = *s.bins;
  const uint8_t* bytes = bins.data.data() + bins.byte_offset[split.feature];
  const unsigned shift = bins.shift[split.feature];
  const unsigned mask = bins.mask[split.feature];
  uint32_t write = open.begin;
  right_rows.clear();
  for (uint32_t i = open.begin; i < open.end; ++i) {
    const uint32_t r = g.index[i];
    const unsigned b = (bytes[static_cast<size_t>(r) * bins.stride] >> shift) & mask;
    if (b <= static_cast<unsigned>(split.bin)) {
      g.index[write++] = r;
    } else {
      right_rows.push_back(r);
    }
  }
  std::copy(right_rows.begin(), right_rows.end(), g.index.begin() + write);
  return write;
}

// Bootstrap weights of this rank's rows for one tree; rows drawn zero times
// take no part in it. A pure function of (seed, tree, row key), so a row gets
// the same weight on whichever rank it lives.
void draw_bootstrap(const Shape& s, GrowingTree& g) {
  const ForestParams& p = *s.params;
  const bool bootstrap = p.num_trees > 1;  // Spark: a single tree sees every row once
  const size_t rows = s.labels.size();
  g.weight.assign(rows, 0);
  g.index.clear();
  uint64_t total_weight = 0;
  for (size_t r = 0; r < rows; ++r) {
    const double u = unit_double(hash3(p.seed ^ kBootstrapSalt, g.tree_index, s.row_keys[r]));
    int w = 1;
    if (bootstrap) {
      w = poisson_from_uniform(u, p.subsampling_rate);
    } else if (p.subsampling_rate < 1.0) {
      w = u < p.subsampling_rate ? 1 : 0;
    }
    if (w == 0) continue;
    g.weight[r] = static_cast<uint8_t>(w);
    g.index.push_back(static_cast<uint32_t>(r));
    total_weight += static_cast<uint64_t>(w);
  }
  // The 32-bit local histogram counters must hold the root's weight.
  if (total_weight > std::numeric_limits<uint32_t>::max()) {
    fail_data("forest training: more than 2^32 sampled rows in one tree on one rank");
  }
}

class LevelGrower {
 public:
  LevelGrower(const Shape& shape, int threads, dist::Communicator& comm, TrainStats& stats)
      : s_(shape), threads_(threads), comm_(comm), stats_(stats) {}

  // Grows trees [first, first + count) of the forest level by level; every
  // rank calls this with the same arguments and gets the same trees.
  std::vector<Tree> grow(int first, int count) {
    const int K = s_.num_classes;
    std::vector<GrowingTree> batch(count);
    std::vector<int64_t> root_counts(static_cast<size_t>(count) * K, 0);
    run_tasks(batch.size(), threads_, [&](size_t b, int) {
      GrowingTree& g = batch[b];
      g.tree_index = first + static_cast<int>(b);
      draw_bootstrap(s_, g);
      for (uint32_t r : g.index) root_counts[b * K + s_.labels[r]] += g.weight[r];
    });
    allreduce(root_counts);

    std::vector<OpenNode> frontier;
    for (int b = 0; b < count; ++b) {
      Tree& tree = batch[b].tree;
      tree.nodes.emplace_back();
      tree.counts.assign(root_counts.begin() + static_cast<ptrdiff_t>(b) * K,
                         root_counts.begin() + static_cast<ptrdiff_t>(b + 1) * K);
      frontier.push_back({b, 0, 0, static_cast<uint32_t>(batch[b].index.size()), 1, {}, {}, 0, 0});
    }
    for (int depth = 0; !frontier.empty(); ++depth) {
      // Which nodes may split is decided from global counts: the same on every rank.
      std::vector<OpenNode> open;
      for (OpenNode& node : frontier) {
        if (depth >= s_.params->max_depth) continue;
        const double* counts = &batch[node.tree].tree.counts[static_cast<size_t>(node.node) * K];
        const double total = std::accumulate(counts, counts + K, 0.0);
        if (s_.criterion->impurity({counts, static_cast<size_t>(K)}, total) <= 0) continue;
        draw_features(s_, batch[node.tree].tree_index, node);
        open.push_back(std::move(node));
      }
      std::vector<OpenNode> next;
      // Rounds of nodes whose histograms fit the budget, one allreduce each.
      for (size_t begin = 0; begin < open.size();) {
        size_t end = begin;
        size_t counters = 0;
        while (end < open.size() &&
               (end == begin ||
                (counters + open[end].hist_size) * sizeof(int64_t) <= kHistogramBudget)) {
          open[end].hist_offset = counters;
          counters += open[end++].hist_size;
        }
        split_round(batch, std::span(open).subspan(begin, end - begin), counters, next);
        begin = end;
      }
      frontier.swap(next);
    }
    std::vector<Tree> trees;
    trees.reserve(batch.size());
    for (auto& g : batch) trees.push_back(std::move(g.tree));
    return trees;
  }

 private:
  void split_round(std::vector<GrowingTree>& batch, std::span<OpenNode> round, size_t counters,
                   std::vector<OpenNode>& next) {
    const int K = s_.num_classes;
    std::vector<int64_t> hist(counters, 0);
    std::vector<std::vector<uint32_t>> scratch(std::max(1, threads_));
    run_tasks(round.size(), threads_, [&](size_t i, int worker) {
      local_histogram(s_, batch[round[i].tree], round[i], scratch[worker],
                      hist.data() + round[i].hist_offset);
    });
    allreduce(hist);

    std::vector<Split> splits(round.size());
    run_tasks(round.size(), threads_, [&](size_t i, int worker) {
      const OpenNode& open = round[i];
      GrowingTree& g = batch[open.tree];
      splits[i] = best_split(s_, &g.tree.counts[static_cast<size_t>(open.node) * K], open,
                             hist.data() + open.hist_offset);
      if (splits[i].feature >= 0)
        splits[i].middle = partition_rows(s_, g, open, splits[i], scratch[worker]);
    });

    // Children are numbered in level order, tree by tree, as in one process.
    for (size_t i = 0; i < round.size(); ++i) {
      const OpenNode& open = round[i];
      const Split& split = splits[i];
      if (split.feature < 0) continue;
      Tree& tree = batch[open.tree].tree;
      const auto left_node = static_cast<int32_t>(tree.nodes.size());
      Tree::Node& node = tree.nodes[open.node];
      node.feature = split.feature;
      node.threshold = s_.splits[split.feature].thresholds[split.bin];
      node.left = left_node;
      node.right = left_node + 1;
      node.gain = split.gain;
      tree.nodes.emplace_back();
      tree.nodes.emplace_back();
      const size_t parent = static_cast<size_t>(open.node) * K;
      tree.counts.insert(tree.counts.end(), split.left.begin(), split.left.end());
      for (int k = 0; k < K; ++k) tree.counts.push_back(tree.counts[parent + k] - split.left[k]);
      next.push_back({open.tree, left_node, open.begin, split.middle, open.id * 2, {}, {}, 0, 0});
      next.push_back(
          {open.tree, left_node + 1, split.middle, open.end, open.id * 2 + 1, {}, {}, 0, 0});
    }
  }

  void allreduce(std::vector<int64_t>& values) {
    const Stopwatch started;
    comm_.allreduce_sum(values);
    stats_.allreduce_seconds += started.seconds();
    stats_.allreduce_bytes += static_cast<int64_t>(values.size() * sizeof(int64_t));
    ++stats_.allreduce_calls;
  }

  const Shape& s_;
  int threads_;
  dist::Communicator& comm_;
  TrainStats& stats_;
};

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
  auto local = dist::make_local_communicator();
  return train(x, labels, row_keys, num_classes, options, *local);
}

Forest Forest::train(const MatrixView& x, std::span<const uint8_t> labels,
                     std::span<const uint64_t> row_keys, int num_classes,
                     const TrainOptions& options, dist::Communicator& comm, TrainStats* stats) {
  if (labels.size() != x.rows || row_keys.size() != x.rows) {
    fail_internal("forest training: matrix, labels and row keys differ in length");
  }
  if (x.rows > std::numeric_limits<uint32_t>::max()) {
    fail_data("forest training supports at most 2^32-1 rows per rank");
  }
  for (uint8_t label : labels) {
    if (label >= num_classes) fail_internal("forest training: label out of range");
  }
  const ForestParams& p = options.params;
  forest_params().check(p, ParamSource{"forest training", ExitCode::kUsage});
  std::array<int64_t, 1> total_rows{static_cast<int64_t>(x.rows)};
  comm.allreduce_sum(total_rows);
  if (total_rows[0] == 0) fail_data("cannot train a forest on zero rows");
  const int threads = std::max(1, options.threads);
  const auto criterion = make_criterion(options.impurity);

  Forest forest;
  forest.num_classes_ = num_classes;
  forest.num_features_ = static_cast<int>(x.cols);
  forest.options_ = options;
  forest.options_.threads = 1;  // not part of the model

  const auto splits = find_splits(x, row_keys, p.max_bins, options.quantile_sample, threads, comm);
  const auto bins = bin_matrix(x, splits, threads);
  const Shape shape{&bins,
                    labels,
                    row_keys,
                    splits,
                    num_classes,
                    static_cast<int>(x.cols),
                    features_per_node(p.feature_subset_strategy, static_cast<int>(x.cols)),
                    &p,
                    criterion.get()};
  TrainStats unused;
  LevelGrower grower(shape, threads, comm, stats ? *stats : unused);
  // Batches of trees whose bootstrap state (a weight byte and an index per
  // row) fits the budget; sized from global figures so all ranks agree.
  const auto rows_per_rank = static_cast<size_t>((total_rows[0] + comm.size() - 1) / comm.size());
  const size_t per_tree = std::max<size_t>(1, rows_per_rank * (sizeof(uint8_t) + sizeof(uint32_t)));
  const int batch =
      static_cast<int>(std::clamp<size_t>(kRowStateBudget / per_tree, 1, p.num_trees));
  for (int first = 0; first < p.num_trees; first += batch) {
    for (Tree& tree : grower.grow(first, std::min(batch, p.num_trees - first))) {
      normalise(tree, num_classes);
      forest.trees_.push_back(std::move(tree));
    }
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
  parallel_for(x.rows, threads, 512, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) predict_row(x.row(r), proba.data() + r * num_classes_);
  });
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
  json["params"] = forest_params().to_json(p);
  json["params"][kImpurityField] = options_.impurity;
  json["params"][kQuantileSampleField] = options_.quantile_sample;
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
    std::vector<std::string> others;  // the training options below
    if (!p.is_object()) fail_data("bad forest: params is not an object");
    forest_params().read(p, o.params, ParamSource{"bad forest", ExitCode::kData}, others);
    o.impurity = p.at(kImpurityField).get<std::string>();
    o.quantile_sample = p.at(kQuantileSampleField).get<size_t>();
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
