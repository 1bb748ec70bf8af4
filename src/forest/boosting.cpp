// Gradient-boosted trees on a TrainingSet: each round computes the softmax
// gradients of every row once, then grows one tree per class depth-wise
// from histograms of (gradient, hessian) sums over the stored columns, with
// a child's histogram as its parent's minus its sibling's. Gradients are
// summed as integers (units of 2^-30), so every sum, and with it every
// split and leaf value, is the same whatever the threads, pieces or ranks.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.h"
#include "common/exact_sum.h"
#include "common/json_number.h"
#include "common/params.h"
#include "common/thread_pool.h"
#include "forest/forest.h"
#include "forest/sampling.h"

namespace loadcast::forest {

// Named, not anonymous: a unity build puts this file and forest.cpp into
// one translation unit.
namespace boosted {

constexpr uint64_t kRowSalt = 0x5AB5A3B1EULL;
constexpr uint64_t kColumnSalt = 0xC015A3B1EULL;
constexpr double kUnit = 0x1.0p30;  // of the integer gradients
constexpr double kLeastHessian = 1e-16;
// Rows a worker counts at a time when a node is cut up.
constexpr uint32_t kRowsPerPiece = uint32_t{1} << 15;

struct GradientPair {
  int32_t g;
  int32_t h;
};

// What one tree may split on, and where each stored column's sums sit in
// a node's histogram: (gradient, hessian) per stored value.
struct TreeColumns {
  std::vector<int> features;           // ascending, each with a threshold
  std::vector<int> columns;            // their stored columns, ascending
  std::vector<uint32_t> base;          // per column: its first counter
  std::vector<uint32_t> feature_base;  // per feature: its column's first counter
  std::vector<uint32_t> narrow_offset, narrow_base, wide_offset, wide_base;
  size_t size = 0;  // counters per node
};

TreeColumns tree_columns(const TrainingSet& set, std::vector<int> features) {
  TreeColumns t;
  t.features = std::move(features);
  for (int f : t.features) t.columns.push_back(set.column_of(f));
  std::sort(t.columns.begin(), t.columns.end());
  t.columns.erase(std::unique(t.columns.begin(), t.columns.end()), t.columns.end());
  for (int c : t.columns) {
    const StoredColumn& column = set.columns()[static_cast<size_t>(c)];
    t.base.push_back(static_cast<uint32_t>(t.size));
    (column.wide ? t.wide_offset : t.narrow_offset).push_back(column.offset);
    (column.wide ? t.wide_base : t.narrow_base).push_back(static_cast<uint32_t>(t.size));
    t.size += size_t{2} * column.entries;
  }
  for (int f : t.features) {
    const auto at = std::lower_bound(t.columns.begin(), t.columns.end(), set.column_of(f));
    t.feature_base.push_back(t.base[static_cast<size_t>(at - t.columns.begin())]);
  }
  return t;
}

// Adds the pairs of rows index[begin, end) into `hist` (t.size counters).
void add_rows(const TrainingSet& set, const TreeColumns& t, std::span<const GradientPair> grad,
              const uint32_t* index, uint32_t begin, uint32_t end, int64_t* hist) {
  const size_t narrow = t.narrow_offset.size();
  const size_t wide = t.wide_offset.size();
  for (uint32_t i = begin; i < end; ++i) {
    const uint32_t r = index[i];
    const GradientPair p = grad[r];
    if (p.g == 0 && p.h == 0) continue;  // a row this round does not sample
    const uint8_t* row = set.row(r);
    for (size_t j = 0; j < narrow; ++j) {
      int64_t* h = hist + t.narrow_base[j] + size_t{2} * row[t.narrow_offset[j]];
      h[0] += p.g;
      h[1] += p.h;
    }
    for (size_t j = 0; j < wide; ++j) {
      const uint8_t* v = row + t.wide_offset[j];
      int64_t* h = hist + t.wide_base[j] + size_t{2} * static_cast<uint32_t>(v[0] | (v[1] << 8));
      h[0] += p.g;
      h[1] += p.h;
    }
  }
}

// A node of the level being split.
struct LevelNode {
  int32_t node = 0;    // in the tree
  uint32_t begin = 0;  // its rows: index[begin, end), this rank's
  uint32_t end = 0;
  int64_t g = 0;  // global sums
  int64_t h = 0;
  int64_t rows = 0;           // global count
  int64_t left_rows = 0;      // of its left child, once split
  std::vector<int64_t> hist;  // global, when it may split
  bool may_split = false;
};

struct Split {
  int feature = -1;  // -1: stays a leaf
  int bin = -1;      // rows with a bin <= this go left (a one-hot feature: 0)
  double gain = 0;
  int64_t left_g = 0;
  int64_t left_h = 0;
};

double score(const BoostParams& p, int64_t g, int64_t h) {
  const double G = static_cast<double>(g) / kUnit;
  return G * G / (static_cast<double>(h) / kUnit + p.l2_regularization);
}

// The best split of a node from its global histogram: highest gain; ties
// keep the lower feature, then the lower threshold.
Split best_split(const TrainingSet& set, const TreeColumns& t, const BoostParams& p,
                 const LevelNode& node) {
  Split best;
  const double parent = score(p, node.g, node.h);
  const double least = p.min_child_weight * kUnit;
  auto consider = [&](int f, int bin, int64_t lg, int64_t lh) {
    const int64_t rg = node.g - lg;
    const int64_t rh = node.h - lh;
    if (static_cast<double>(lh) < least || static_cast<double>(rh) < least) return;
    const double gain = 0.5 * (score(p, lg, lh) + score(p, rg, rh) - parent);
    if (gain > best.gain) best = {f, bin, gain, lg, lh};
  };
  for (size_t j = 0; j < t.features.size(); ++j) {
    const int f = t.features[j];
    const int64_t* h = node.hist.data() + t.feature_base[j];
    const int code = set.code_of(f);
    if (code >= 0) {
      // Its code goes right, every other row left.
      const auto at = static_cast<size_t>(code) * 2;
      consider(f, 0, node.g - h[at], node.h - h[at + 1]);
      continue;
    }
    const int thresholds = static_cast<int>(set.splits()[static_cast<size_t>(f)].thresholds.size());
    int64_t lg = 0, lh = 0;
    for (int b = 0; b < thresholds; ++b) {
      lg += h[static_cast<size_t>(b) * 2];
      lh += h[static_cast<size_t>(b) * 2 + 1];
      consider(f, b, lg, lh);
    }
  }
  return best;
}

bool goes_left(const TrainingSet& set, size_t r, int feature, int bin) {
  return set.bin(r, feature) <= bin;
}

// A tree as it was grown: where this rank's rows ended, and each node's
// split bin (to route rows of another set with the same splits).
struct GrownTree {
  Tree tree;
  std::vector<int> bins;  // per node; -1 at a leaf
  struct Leaf {
    uint32_t begin;
    uint32_t end;
    double value;
  };
  std::vector<Leaf> leaves;
};

class TreeGrower {
 public:
  TreeGrower(const TrainingSet& set, const BoostParams& params, int threads,
             dist::Communicator& comm, TrainStats& stats)
      : set_(set), p_(params), threads_(threads), comm_(comm), stats_(stats) {
    index_.resize(set.rows());
  }

  GrownTree grow(const TreeColumns& t, std::span<const GradientPair> grad, int output_class,
                 int num_classes) {
    grad_ = grad;
    t_ = &t;
    std::iota(index_.begin(), index_.end(), 0U);
    GrownTree out;
    Tree& tree = out.tree;
    tree.output_class = output_class;
    const auto K = static_cast<size_t>(num_classes);
    std::array<int64_t, 3> totals{0, 0, static_cast<int64_t>(set_.rows())};
    for (const GradientPair& p : grad) {
      totals[0] += p.g;
      totals[1] += p.h;
    }
    allreduce(totals);
    std::vector<LevelNode> level(1);
    level[0].end = static_cast<uint32_t>(set_.rows());
    level[0].g = totals[0];
    level[0].h = totals[1];
    level[0].rows = totals[2];
    tree.nodes.emplace_back();
    out.bins.push_back(-1);
    // Parents' histograms, for the level's sibling pairs (2i, 2i + 1).
    std::vector<std::vector<int64_t>> parents;
    for (int depth = 0; !level.empty(); ++depth) {
      const double least = p_.min_child_weight * kUnit;
      for (LevelNode& n : level)
        n.may_split = depth < p_.max_depth && n.rows >= 2 && !t.features.empty() &&
                      static_cast<double>(n.h) >= 2 * least;
      histograms(level, parents, depth == 0);
      std::vector<Split> splits(level.size());
      run_tasks(level.size(), threads_, [&](size_t i, int) {
        if (level[i].may_split) splits[i] = best_split(set_, t, p_, level[i]);
      });
      // This rank's rows of each split node, left ones first, and their global count.
      std::vector<int64_t> left_rows;
      run_tasks(level.size(), threads_, [&](size_t i, int) {
        if (splits[i].feature >= 0) level[i].left_rows = partition(level[i], splits[i]);
      });
      for (size_t i = 0; i < level.size(); ++i)
        if (splits[i].feature >= 0) left_rows.push_back(level[i].left_rows);
      allreduce(left_rows);
      std::vector<LevelNode> next;
      parents.clear();
      size_t split_index = 0;
      for (size_t i = 0; i < level.size(); ++i) {
        LevelNode& n = level[i];
        const Split& s = splits[i];
        const double cover = static_cast<double>(n.h) / kUnit;
        const double value =
            -static_cast<double>(n.g) / kUnit / (cover + p_.l2_regularization) * p_.learning_rate;
        tree.counts.resize(tree.nodes.size() * K, 0.0);
        tree.leaf_values.resize(tree.nodes.size() * K, 0.0);
        tree.counts[static_cast<size_t>(n.node) * K + static_cast<size_t>(output_class)] = cover;
        tree.leaf_values[static_cast<size_t>(n.node) * K + static_cast<size_t>(output_class)] =
            value;
        if (s.feature < 0) {
          out.leaves.push_back({n.begin, n.end, value});
          continue;
        }
        const int64_t left_global = left_rows[split_index++];
        const auto left_node = static_cast<int32_t>(tree.nodes.size());
        Tree::Node& node = tree.nodes[static_cast<size_t>(n.node)];
        node.feature = s.feature;
        node.threshold =
            set_.splits()[static_cast<size_t>(s.feature)].thresholds[static_cast<size_t>(s.bin)];
        node.left = left_node;
        node.right = left_node + 1;
        node.gain = s.gain;
        out.bins[static_cast<size_t>(n.node)] = s.bin;
        tree.nodes.emplace_back();
        tree.nodes.emplace_back();
        out.bins.push_back(-1);
        out.bins.push_back(-1);
        LevelNode left;
        left.node = left_node;
        left.begin = n.begin;
        left.end = n.begin + static_cast<uint32_t>(n.left_rows);
        left.g = s.left_g;
        left.h = s.left_h;
        left.rows = left_global;
        LevelNode right;
        right.node = left_node + 1;
        right.begin = left.end;
        right.end = n.end;
        right.g = n.g - s.left_g;
        right.h = n.h - s.left_h;
        right.rows = n.rows - left_global;
        next.push_back(std::move(left));
        next.push_back(std::move(right));
        parents.push_back(std::move(n.hist));
      }
      level.swap(next);
    }
    tree.counts.resize(tree.nodes.size() * K, 0.0);
    tree.leaf_values.resize(tree.nodes.size() * K, 0.0);
    return out;
  }

  const std::vector<uint32_t>& index() const { return index_; }

 private:
  // The global histograms of the level's nodes that may split: the root's
  // counted; of two siblings, the one with fewer rows counted and the other
  // its parent's minus that. Counting is local, one allreduce for all.
  void histograms(std::vector<LevelNode>& level, std::vector<std::vector<int64_t>>& parents,
                  bool root) {
    std::vector<size_t> counted;
    std::vector<std::pair<size_t, size_t>> derived;  // (node, sibling counted)
    for (size_t i = 0; i < level.size(); i += root ? 1 : 2) {
      if (root) {
        if (level[i].may_split) counted.push_back(i);
        continue;
      }
      if (!level[i].may_split && !level[i + 1].may_split) continue;
      const size_t small = level[i + 1].rows < level[i].rows ? i + 1 : i;
      const size_t large = small == i ? i + 1 : i;
      counted.push_back(small);
      if (level[large].may_split) derived.emplace_back(large, small);
    }
    if (counted.empty()) return;
    const size_t size = t_->size;
    std::vector<int64_t> all(counted.size() * size, 0);
    // Nodes of one piece each on a worker; bigger ones cut into pieces that
    // the workers count into their own copies, added up after.
    std::vector<size_t> small_nodes;
    std::vector<std::vector<int64_t>> copies(static_cast<size_t>(threads_));
    for (size_t c = 0; c < counted.size(); ++c) {
      const LevelNode& n = level[counted[c]];
      if (n.end - n.begin <= kRowsPerPiece) {
        small_nodes.push_back(c);
        continue;
      }
      const size_t pieces = (n.end - n.begin + kRowsPerPiece - 1) / kRowsPerPiece;
      for (auto& copy : copies) copy.assign(size, 0);
      run_tasks(pieces, threads_, [&](size_t piece, int worker) {
        const uint32_t b = n.begin + static_cast<uint32_t>(piece) * kRowsPerPiece;
        const uint32_t e = std::min(n.end, b + kRowsPerPiece);
        add_rows(set_, *t_, grad_, index_.data(), b, e, copies[static_cast<size_t>(worker)].data());
      });
      int64_t* into = all.data() + c * size;
      for (const auto& copy : copies)
        for (size_t e = 0; e < size; ++e) into[e] += copy[e];
    }
    run_tasks(small_nodes.size(), threads_, [&](size_t j, int) {
      const size_t c = small_nodes[j];
      const LevelNode& n = level[counted[c]];
      add_rows(set_, *t_, grad_, index_.data(), n.begin, n.end, all.data() + c * size);
    });
    allreduce(all);
    for (size_t c = 0; c < counted.size(); ++c)
      level[counted[c]].hist.assign(all.begin() + static_cast<ptrdiff_t>(c * size),
                                    all.begin() + static_cast<ptrdiff_t>((c + 1) * size));
    for (const auto& [large, small] : derived) {
      const std::vector<int64_t>& parent = parents[large / 2];
      const std::vector<int64_t>& sibling = level[small].hist;
      std::vector<int64_t>& out = level[large].hist;
      out.resize(size);
      for (size_t e = 0; e < size; ++e) out[e] = parent[e] - sibling[e];
    }
  }

  // Stable partition of the node's rows: left in place, right after.
  // Returns how many went left.
  int64_t partition(const LevelNode& n, const Split& s) {
    thread_local std::vector<uint32_t> right;
    right.clear();
    uint32_t write = n.begin;
    for (uint32_t i = n.begin; i < n.end; ++i) {
      const uint32_t r = index_[i];
      if (goes_left(set_, r, s.feature, s.bin)) {
        index_[write++] = r;
      } else {
        right.push_back(r);
      }
    }
    std::copy(right.begin(), right.end(), index_.begin() + write);
    return write - n.begin;
  }

  template <size_t N>
  void allreduce(std::array<int64_t, N>& values) {
    counted_allreduce(comm_, values, stats_);
  }
  void allreduce(std::vector<int64_t>& values) { counted_allreduce(comm_, values, stats_); }

  const TrainingSet& set_;
  const BoostParams& p_;
  int threads_;
  dist::Communicator& comm_;
  TrainStats& stats_;
  std::vector<uint32_t> index_;
  std::span<const GradientPair> grad_;
  const TreeColumns* t_ = nullptr;
};

// The features a tree may split on: a colsample share of those with a
// threshold, drawn from (seed, round, class).
std::vector<int> draw_features(const TrainingSet& set, const BoostParams& p, int round,
                               int output_class) {
  std::vector<int> usable;
  for (int f = 0; f < set.num_features(); ++f)
    if (!set.splits()[static_cast<size_t>(f)].thresholds.empty()) usable.push_back(f);
  if (p.colsample >= 1.0 || usable.empty()) return usable;
  const auto n = static_cast<int>(usable.size());
  const int take = std::clamp(static_cast<int>(std::ceil(p.colsample * n)), 1, n);
  SplitMix rng(hash3(p.seed ^ kColumnSalt, static_cast<uint64_t>(round),
                     static_cast<uint64_t>(output_class)));
  for (int j = 0; j < take; ++j)
    std::swap(usable[static_cast<size_t>(j)],
              usable[static_cast<size_t>(j) + rng.below(static_cast<uint64_t>(n - j))]);
  usable.resize(static_cast<size_t>(take));
  std::sort(usable.begin(), usable.end());
  return usable;
}

// Rows x classes softmax of `scores` into `proba`.
void softmax_rows(std::span<const double> scores, size_t K, std::span<double> proba, int threads) {
  parallel_for(scores.size() / K, threads, 4096, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const double* z = scores.data() + r * K;
      double* p = proba.data() + r * K;
      const double top = *std::max_element(z, z + K);
      double total = 0;
      for (size_t k = 0; k < K; ++k) total += p[k] = std::exp(z[k] - top);
      for (size_t k = 0; k < K; ++k) p[k] /= total;
    }
  });
}

// The leaf of each of set's rows in a grown tree, added to its scores.
void add_tree(const TrainingSet& set, const GrownTree& grown, size_t K, std::span<double> scores,
              int threads) {
  const Tree& tree = grown.tree;
  const auto k = static_cast<size_t>(tree.output_class);
  parallel_for(set.rows(), threads, 4096, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      int32_t n = 0;
      while (tree.nodes[static_cast<size_t>(n)].feature >= 0) {
        const Tree::Node& node = tree.nodes[static_cast<size_t>(n)];
        n = goes_left(set, r, node.feature, grown.bins[static_cast<size_t>(n)]) ? node.left
                                                                                : node.right;
      }
      scores[r * K + k] += tree.leaf_values[static_cast<size_t>(n) * K + k];
    }
  });
}

// The mean log loss of every rank's validation rows, exactly summed.
double log_loss(const TrainingSet& set, std::span<const double> scores, size_t K, int threads,
                dist::Communicator& comm) {
  std::vector<double> proba(scores.size());
  softmax_rows(scores, K, proba, threads);
  ExactSum sum;
  for (size_t r = 0; r < set.rows(); ++r)
    sum.add(-std::log(std::max(proba[r * K + set.labels()[r]], 1e-15)));
  auto limbs = sum.limbs();
  comm.allreduce_sum(limbs);
  std::array<int64_t, 1> rows{static_cast<int64_t>(set.rows())};
  comm.allreduce_sum(rows);
  return ExactSum::from_limbs(limbs).value() / static_cast<double>(rows[0]);
}

constexpr const char* kBaseScoreField = "baseScore";

}  // namespace boosted

Forest Forest::boost(const TrainingSet& set, const TrainingSet* validation, int num_classes,
                     const BoostOptions& options, dist::Communicator& comm, TrainStats* stats,
                     BoostHistory* history) {
  using namespace boosted;
  const BoostParams& p = options.params;
  boost_params().check(p, ParamSource{"boosted trees", ExitCode::kUsage});
  if (set.rows() > std::numeric_limits<uint32_t>::max())
    fail_data("boosting supports at most 2^32-1 rows per rank");
  const int threads = std::max(1, options.threads);
  const auto K = static_cast<size_t>(num_classes);
  std::vector<int64_t> class_rows(K + 1, 0);
  for (uint8_t label : set.labels()) {
    if (label >= num_classes) fail_internal("boosting: label out of range");
    ++class_rows[label];
  }
  class_rows[K] = validation ? static_cast<int64_t>(validation->rows()) : 0;
  comm.allreduce_sum(class_rows);
  const int64_t total = std::accumulate(class_rows.begin(), class_rows.end() - 1, int64_t{0});
  if (total == 0) fail_data("cannot boost trees on zero rows");
  const bool stopping = p.early_stopping_rounds > 0;
  if (stopping && class_rows[K] == 0)
    fail_data("early stopping needs validation rows: none in the last " +
              std::to_string(p.validation_days) + " days before testSplitStart");

  Forest forest;
  forest.algorithm_ = Algorithm::kGradientBoostedTrees;
  forest.num_classes_ = num_classes;
  forest.num_features_ = set.num_features();
  forest.boost_ = p;
  // Each class starts at the log of its smoothed share of the training rows.
  for (size_t k = 0; k < K; ++k)
    forest.base_score_.push_back(std::log((static_cast<double>(class_rows[k]) + 1) /
                                          (static_cast<double>(total) + static_cast<double>(K))));

  const size_t rows = set.rows();
  std::vector<double> scores(rows * K), proba(rows * K);
  for (size_t r = 0; r < rows; ++r)
    std::copy(forest.base_score_.begin(), forest.base_score_.end(), scores.begin() + r * K);
  std::vector<double> validation_scores;
  if (stopping) {
    validation_scores.resize(validation->rows() * K);
    for (size_t r = 0; r < validation->rows(); ++r)
      std::copy(forest.base_score_.begin(), forest.base_score_.end(),
                validation_scores.begin() + r * K);
  }
  std::vector<std::vector<GradientPair>> grad(K, std::vector<GradientPair>(rows));
  TrainStats unused;
  TreeGrower grower(set, p, threads, comm, stats ? *stats : unused);
  BoostHistory made;
  made.validation_rows = class_rows[K];
  double best_loss = std::numeric_limits<double>::infinity();
  for (int round = 0; round < p.num_rounds; ++round) {
    softmax_rows(scores, K, proba, threads);
    parallel_for(rows, threads, 4096, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        const bool sampled =
            p.subsample >= 1.0 || unit_double(hash3(p.seed ^ kRowSalt, static_cast<uint64_t>(round),
                                                    set.keys()[r])) < p.subsample;
        for (size_t k = 0; k < K; ++k) {
          if (!sampled) {
            grad[k][r] = {0, 0};
            continue;
          }
          const double q = proba[r * K + k];
          const double g = q - (set.labels()[r] == k ? 1.0 : 0.0);
          const double h = std::max(2.0 * q * (1.0 - q), kLeastHessian);
          grad[k][r] = {static_cast<int32_t>(std::llround(g * kUnit)),
                        static_cast<int32_t>(std::llround(h * kUnit))};
        }
      }
    });
    for (size_t k = 0; k < K; ++k) {
      const TreeColumns columns =
          tree_columns(set, draw_features(set, p, round, static_cast<int>(k)));
      GrownTree grown = grower.grow(columns, grad[k], static_cast<int>(k), num_classes);
      const auto& index = grower.index();
      for (const GrownTree::Leaf& leaf : grown.leaves)
        for (uint32_t i = leaf.begin; i < leaf.end; ++i) scores[index[i] * K + k] += leaf.value;
      if (stopping) add_tree(*validation, grown, K, validation_scores, threads);
      forest.trees_.push_back(std::move(grown.tree));
    }
    made.rounds = round + 1;
    if (!stopping) {
      made.best_round = made.rounds;
      continue;
    }
    const double loss = log_loss(*validation, validation_scores, K, threads, comm);
    made.validation_loss.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      made.best_round = made.rounds;
    } else if (made.rounds - made.best_round >= p.early_stopping_rounds) {
      break;
    }
  }
  forest.trees_.resize(static_cast<size_t>(made.best_round) * K);
  if (history) *history = std::move(made);
  return forest;
}

nlohmann::json Forest::boosted_json() const {
  using boosted::kBaseScoreField;
  nlohmann::json json;
  json[kFormatKey] = "loadcast-forest";
  json["formatVersion"] = kFormatVersion;
  json[kAlgorithmField] = kGradientBoostedTreesName;
  json["numClasses"] = num_classes_;
  json["numFeatures"] = num_features_;
  json["params"] = boost_params().to_json(boost_);
  json[kBaseScoreField] = base_score_;
  auto& trees = json["trees"] = nlohmann::json::array();
  const auto K = static_cast<size_t>(num_classes_);
  for (const Tree& tree : trees_) {
    std::vector<int32_t> feature, left, right;
    std::vector<double> threshold, gain, value, cover;
    const auto k = static_cast<size_t>(tree.output_class);
    for (size_t n = 0; n < tree.nodes.size(); ++n) {
      const auto& node = tree.nodes[n];
      feature.push_back(node.feature);
      threshold.push_back(node.threshold);
      left.push_back(node.left);
      right.push_back(node.right);
      gain.push_back(node.gain);
      value.push_back(tree.leaf_values[n * K + k]);
      cover.push_back(tree.counts[n * K + k]);
    }
    trees.push_back({{"class", tree.output_class},
                     {"feature", feature},
                     {"threshold", threshold},
                     {"left", left},
                     {"right", right},
                     {"gain", gain},
                     {"value", value},
                     {"cover", cover}});
  }
  return json;
}

Forest Forest::boosted_from_json(const nlohmann::json& json) {
  using boosted::kBaseScoreField;
  Forest forest;
  forest.algorithm_ = Algorithm::kGradientBoostedTrees;
  forest.num_classes_ = whole_number<int>(json.at("numClasses"));
  forest.num_features_ = whole_number<int>(json.at("numFeatures"));
  const auto& p = json.at("params");
  if (!p.is_object()) fail_data("bad forest: params is not an object");
  std::vector<std::string> others;
  boost_params().read(p, forest.boost_, ParamSource{"bad forest", ExitCode::kData}, others);
  forest.base_score_ = json.at(kBaseScoreField).get<std::vector<double>>();
  const int K = forest.num_classes_;
  if (K < 1 || forest.num_features_ < 0 || forest.base_score_.size() != static_cast<size_t>(K))
    fail_data("bad forest: class or feature count");
  for (const auto& t : json.at("trees")) {
    Tree tree;
    tree.output_class = whole_number<int32_t>(t.at("class"));
    const auto feature = whole_numbers<int32_t>(t.at("feature"));
    const auto threshold = t.at("threshold").get<std::vector<double>>();
    const auto left = whole_numbers<int32_t>(t.at("left"));
    const auto right = whole_numbers<int32_t>(t.at("right"));
    const auto gain = t.at("gain").get<std::vector<double>>();
    const auto value = t.at("value").get<std::vector<double>>();
    const auto cover = t.at("cover").get<std::vector<double>>();
    const size_t n = feature.size();
    if (n == 0 || threshold.size() != n || left.size() != n || right.size() != n ||
        gain.size() != n || value.size() != n || cover.size() != n)
      fail_data("bad forest: tree arrays differ in length");
    if (tree.output_class < 0 || tree.output_class >= K)
      fail_data("bad forest: a tree scores class " + std::to_string(tree.output_class));
    tree.counts.assign(n * static_cast<size_t>(K), 0.0);
    tree.leaf_values.assign(n * static_cast<size_t>(K), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const auto last = static_cast<int32_t>(n);
      if (feature[i] >= forest.num_features_ ||
          (feature[i] >= 0 &&
           (left[i] <= static_cast<int32_t>(i) || right[i] <= static_cast<int32_t>(i) ||
            left[i] >= last || right[i] >= last)) ||
          !std::isfinite(value[i]))
        fail_data("bad forest: node " + std::to_string(i) + " has an invalid feature or child");
      tree.nodes.push_back(
          {feature[i], static_cast<float>(threshold[i]), left[i], right[i], gain[i]});
      const size_t at = i * static_cast<size_t>(K) + static_cast<size_t>(tree.output_class);
      tree.leaf_values[at] = value[i];
      tree.counts[at] = cover[i];
    }
    forest.trees_.push_back(std::move(tree));
  }
  if (forest.trees_.empty()) fail_data("bad forest: no trees");
  return forest;
}

}  // namespace loadcast::forest
