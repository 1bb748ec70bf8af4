#include "forest/forest.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>

#include "common/error.h"
#include "common/json_number.h"
#include "common/params.h"
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

void counted_allreduce(dist::Communicator& comm, std::span<int64_t> values, TrainStats& stats) {
  // Every rank asks for the same length, so an empty sum is skipped on all ranks alike.
  if (values.empty()) return;
  const Stopwatch started;
  comm.allreduce_sum(values);
  stats.allreduce_seconds += started.seconds();
  stats.allreduce_bytes += static_cast<int64_t>(values.size() * sizeof(int64_t));
  ++stats.allreduce_calls;
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
// rounds and batches and which histograms are subtracted, never the forest.
constexpr size_t kHistogramBudget = size_t{64} << 20;    // bytes of counts per allreduce
constexpr size_t kRowStateBudget = size_t{512} << 20;    // bootstrap state of one batch of trees
constexpr size_t kKeptCountsBudget = size_t{128} << 20;  // a level's counts kept for subtraction

// What every tree of the forest shares.
struct Shape {
  const TrainingSet* set;
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

// This rank's weighted class counts of a node's rows over some of the stored
// columns: for each, entries x classes counters.
struct ColumnCounts {
  std::vector<int> columns;  // ascending
  std::vector<uint32_t> base;
  std::vector<uint32_t> counts;

  void lay_out(const Shape& s, std::vector<int> wanted) {
    columns = std::move(wanted);
    base.clear();
    uint32_t size = 0;
    for (int c : columns) {
      base.push_back(size);
      size +=
          s.set->columns()[static_cast<size_t>(c)].entries * static_cast<uint32_t>(s.num_classes);
    }
    counts.assign(size, 0);
  }
  const uint32_t* of(int column) const {
    const auto it = std::lower_bound(columns.begin(), columns.end(), column);
    if (it == columns.end() || *it != column) return nullptr;
    return counts.data() + base[static_cast<size_t>(it - columns.begin())];
  }
  size_t bytes() const { return counts.size() * sizeof(uint32_t); }
};

// A node of the current level that may split.
struct OpenNode {
  int tree;  // position in the batch
  int32_t node;
  uint32_t begin;  // its rows: index[begin, end) of its tree, on this rank
  uint32_t end;
  uint64_t id;  // heap numbering (root 1): names the node for its feature draw
  std::shared_ptr<const ColumnCounts> parent;  // the parent's counts, when kept
  std::vector<int> features;                   // the drawn subset, ascending
  std::vector<int> columns;                    // the stored columns those features need, ascending
  std::vector<uint32_t> hist_base;  // per drawn feature: its first counter in the histogram
  size_t hist_offset = 0;           // into the round's histogram buffer
  size_t hist_size = 0;
  std::shared_ptr<ColumnCounts> counts;  // this node's, once counted

  uint32_t rows() const { return end - begin; }
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
  // the allreduced histograms small; a feature without a threshold can
  // never split and needs no stored column.
  open.hist_base.resize(s.subset);
  open.columns.clear();
  uint32_t counters = 0;
  for (int j = 0; j < s.subset; ++j) {
    const int f = open.features[j];
    open.hist_base[j] = counters;
    counters += static_cast<uint32_t>(s.splits[f].num_bins() * s.num_classes);
    if (s.splits[f].num_bins() > 1) open.columns.push_back(s.set->column_of(f));
  }
  std::sort(open.columns.begin(), open.columns.end());
  open.columns.erase(std::unique(open.columns.begin(), open.columns.end()), open.columns.end());
  open.hist_size = counters;
}

// Adds the weighted class counts of index[begin, end) over out.columns into
// out.counts. Two copies of the counters, for even and odd positions, halve
// the chains of increments to the same counter (a block's code repeats row
// after row); `scratch` is the worker's.
void count_rows(const Shape& s, const GrowingTree& g, uint32_t begin, uint32_t end,
                ColumnCounts& out, std::vector<uint32_t>& scratch) {
  if (out.columns.empty() || begin == end) return;
  const auto& stored = s.set->columns();
  const uint32_t K = static_cast<uint32_t>(s.num_classes);
  std::vector<uint32_t> narrow_offset, narrow_base, wide_offset, wide_base;
  for (size_t i = 0; i < out.columns.size(); ++i) {
    const StoredColumn& column = stored[static_cast<size_t>(out.columns[i])];
    (column.wide ? wide_offset : narrow_offset).push_back(column.offset);
    (column.wide ? wide_base : narrow_base).push_back(out.base[i]);
  }
  const size_t size = out.counts.size();
  scratch.assign(2 * size, 0);
  const size_t narrow = narrow_offset.size();
  const size_t wide = wide_offset.size();
  for (uint32_t i = begin; i < end; ++i) {
    const uint32_t r = g.index[i];
    const uint8_t* row = s.set->row(r);
    const uint32_t w = g.weight[r];
    uint32_t* h = scratch.data() + (i & 1) * size + s.labels[r];
    for (size_t j = 0; j < narrow; ++j) h[narrow_base[j] + row[narrow_offset[j]] * K] += w;
    for (size_t j = 0; j < wide; ++j) {
      const uint8_t* p = row + wide_offset[j];
      h[wide_base[j] + static_cast<uint32_t>(p[0] | (p[1] << 8)) * K] += w;
    }
  }
  for (size_t e = 0; e < size; ++e) out.counts[e] += scratch[e] + scratch[size + e];
}

// The node's histogram of its drawn features, from its column counts, added
// into `out`: a numeric feature's bins are its column's; a one-hot feature's
// bin 1 is its code's count and bin 0 the rest of the node.
void add_histogram(const Shape& s, const OpenNode& open, int64_t* out) {
  const int K = s.num_classes;
  const ColumnCounts& c = *open.counts;
  if (c.columns.empty()) return;
  std::vector<int64_t> total(K, 0);
  const uint32_t* first = c.counts.data();
  const uint32_t first_entries = s.set->columns()[static_cast<size_t>(c.columns[0])].entries;
  for (uint32_t e = 0; e < first_entries; ++e)
    for (int k = 0; k < K; ++k) total[k] += first[e * K + k];
  for (size_t j = 0; j < open.features.size(); ++j) {
    const int f = open.features[j];
    const int bins = s.splits[f].num_bins();
    if (bins <= 1) continue;  // never read: no threshold to try
    const uint32_t* p = c.of(s.set->column_of(f));
    int64_t* h = out + open.hist_base[j];
    const int code = s.set->code_of(f);
    if (code < 0) {
      for (int e = 0; e < bins * K; ++e) h[e] += p[e];
    } else {
      for (int k = 0; k < K; ++k) {
        const int64_t ones = p[static_cast<size_t>(code) * K + k];
        h[k] += total[k] - ones;
        h[K + k] += ones;
      }
    }
  }
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
  const TrainingSet& set = *s.set;
  const StoredColumn& column = set.columns()[static_cast<size_t>(set.column_of(split.feature))];
  const int code = set.code_of(split.feature);
  uint32_t write = open.begin;
  right_rows.clear();
  for (uint32_t i = open.begin; i < open.end; ++i) {
    const uint32_t r = g.index[i];
    const uint32_t v = set.value(r, column);
    // A one-hot feature splits at its one threshold: bin 1 (its code) goes right.
    const bool left =
        code < 0 ? v <= static_cast<uint32_t>(split.bin) : v != static_cast<uint32_t>(code);
    if (left) {
      g.index[write++] = r;
    } else {
      right_rows.push_back(r);
    }
  }
  std::copy(right_rows.begin(), right_rows.end(), g.index.begin() + write);
  return write;
}

// Bootstrap weights of this rank's rows [begin, end) for one tree, their
// sampled rows appended to `index` and their weighted class counts added to
// `counts`; rows drawn zero times take no part in the tree. A pure function
// of (seed, tree, row key), so a row gets the same weight on whichever rank
// it lives. Returns the rows' total weight.
uint64_t draw_bootstrap(const Shape& s, GrowingTree& g, size_t begin, size_t end,
                        std::vector<uint32_t>& index, int64_t* counts) {
  const ForestParams& p = *s.params;
  const bool bootstrap = p.num_trees > 1;  // Spark: a single tree sees every row once
  const PoissonTable poisson(p.subsampling_rate);
  uint64_t total_weight = 0;
  for (size_t r = begin; r < end; ++r) {
    const double u = unit_double(hash3(p.seed ^ kBootstrapSalt, g.tree_index, s.row_keys[r]));
    int w = 1;
    if (bootstrap) {
      w = poisson.draw(u);
    } else if (p.subsampling_rate < 1.0) {
      w = u < p.subsampling_rate ? 1 : 0;
    }
    if (w == 0) continue;
    g.weight[r] = static_cast<uint8_t>(w);
    index.push_back(static_cast<uint32_t>(r));
    counts[s.labels[r]] += w;
    total_weight += static_cast<uint64_t>(w);
  }
  return total_weight;
}

// Rows per piece of work when one node's or one tree's rows are cut up, so
// that a few big nodes (the top of a tree) still keep every thread busy.
constexpr size_t kRowsPerPiece = size_t{1} << 16;

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
    // Each tree's rows in pieces, drawn in parallel and joined in order, a
    // tree at a time (so only one tree's pieces exist at once).
    const size_t rows = s_.labels.size();
    const size_t pieces = std::max<size_t>(1, (rows + kRowsPerPiece - 1) / kRowsPerPiece);
    std::vector<std::vector<uint32_t>> drawn(pieces);
    std::vector<int64_t> piece_counts(pieces * K);
    std::vector<uint64_t> piece_weight(pieces);
    for (int b = 0; b < count; ++b) {
      GrowingTree& g = batch[b];
      g.tree_index = first + b;
      g.weight.assign(rows, 0);
      std::fill(piece_counts.begin(), piece_counts.end(), 0);
      run_tasks(pieces, threads_, [&](size_t piece, int) {
        const size_t begin = std::min(rows, piece * kRowsPerPiece);
        const size_t end = std::min(rows, begin + kRowsPerPiece);
        drawn[piece].clear();
        piece_weight[piece] =
            draw_bootstrap(s_, g, begin, end, drawn[piece], piece_counts.data() + piece * K);
      });
      uint64_t total_weight = 0;
      size_t sampled = 0;
      for (const auto& d : drawn) sampled += d.size();
      g.index.reserve(sampled);
      for (size_t piece = 0; piece < pieces; ++piece) {
        g.index.insert(g.index.end(), drawn[piece].begin(), drawn[piece].end());
        total_weight += piece_weight[piece];
        for (int k = 0; k < K; ++k) root_counts[b * K + k] += piece_counts[piece * K + k];
      }
      // The 32-bit local histogram counters must hold the root's weight.
      if (total_weight > std::numeric_limits<uint32_t>::max()) {
        fail_data("forest training: more than 2^32 sampled rows in one tree on one rank");
      }
    }
    allreduce(root_counts);

    std::vector<OpenNode> frontier;
    for (int b = 0; b < count; ++b) {
      Tree& tree = batch[b].tree;
      tree.nodes.emplace_back();
      tree.counts.assign(root_counts.begin() + static_cast<ptrdiff_t>(b) * K,
                         root_counts.begin() + static_cast<ptrdiff_t>(b + 1) * K);
      OpenNode root{};
      root.tree = b;
      root.node = 0;
      root.begin = 0;
      root.end = static_cast<uint32_t>(batch[b].index.size());
      root.id = 1;
      frontier.push_back(std::move(root));
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
      frontier.clear();
      std::vector<OpenNode> next;
      size_t kept_bytes = 0;
      // Rounds of nodes whose histograms fit the budget, one allreduce each;
      // two siblings stay in one round, so one can be the parent minus the other.
      for (size_t begin = 0; begin < open.size();) {
        size_t end = begin;
        size_t counters = 0;
        while (end < open.size()) {
          const size_t unit = siblings(open, end) ? 2 : 1;
          size_t more = 0;
          for (size_t i = end; i < end + unit; ++i) more += open[i].hist_size;
          if (end > begin && (counters + more) * sizeof(int64_t) > kHistogramBudget) break;
          for (size_t i = end; i < end + unit; ++i) {
            open[i].hist_offset = counters;
            counters += open[i].hist_size;
          }
          end += unit;
        }
        split_round(batch, std::span(open).subspan(begin, end - begin), counters, next, kept_bytes);
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
  // Whether nodes i and i + 1 are the two children of one parent whose counts were kept.
  static bool siblings(std::span<const OpenNode> nodes, size_t i) {
    return i + 1 < nodes.size() && nodes[i].parent && nodes[i].parent == nodes[i + 1].parent &&
           nodes[i].tree == nodes[i + 1].tree && nodes[i + 1].id == nodes[i].id + 1;
  }

  void split_round(std::vector<GrowingTree>& batch, std::span<OpenNode> round, size_t counters,
                   std::vector<OpenNode>& next, size_t& kept_bytes) {
    const int K = s_.num_classes;
    // What each node counts over its rows: alone, the columns it needs; of
    // two siblings, the smaller counts its own and those of the larger that
    // the parent kept, and the larger only the rest (it takes the parent's
    // minus the smaller's for those).
    std::vector<ColumnCounts> scans(round.size());
    std::vector<size_t> smaller(round.size(), round.size());  // a larger sibling's other
    for (size_t i = 0; i < round.size(); i += siblings(round, i) ? 2 : 1) {
      if (!siblings(round, i)) {
        scans[i].lay_out(s_, round[i].columns);
        continue;
      }
      const size_t small = round[i].rows() <= round[i + 1].rows() ? i : i + 1;
      const size_t large = small == i ? i + 1 : i;
      const ColumnCounts& parent = *round[i].parent;
      std::vector<int> columns = round[small].columns;
      std::vector<int> unkept;
      for (int c : round[large].columns) (parent.of(c) ? columns : unkept).push_back(c);
      std::sort(columns.begin(), columns.end());
      columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
      scans[small].lay_out(s_, std::move(columns));
      scans[large].lay_out(s_, std::move(unkept));
      smaller[large] = small;
    }
    // Pieces of at most kRowsPerPiece rows; a node of one piece counts into
    // its scan directly, the pieces of a bigger one are added up after.
    struct Piece {
      size_t node;
      uint32_t begin;
      uint32_t end;
    };
    std::vector<Piece> pieces;
    for (size_t i = 0; i < round.size(); ++i) {
      if (scans[i].columns.empty()) continue;
      for (uint32_t b = round[i].begin; b < round[i].end; b += kRowsPerPiece)
        pieces.push_back(
            {i, b, static_cast<uint32_t>(std::min<size_t>(round[i].end, b + kRowsPerPiece))});
    }
    std::vector<ColumnCounts> partial(pieces.size());
    std::vector<std::vector<uint32_t>> scratch(std::max(1, threads_));
    run_tasks(pieces.size(), threads_, [&](size_t j, int worker) {
      const Piece& piece = pieces[j];
      const bool whole =
          piece.begin == round[piece.node].begin && piece.end == round[piece.node].end;
      ColumnCounts* into = &scans[piece.node];
      if (!whole) {
        partial[j].lay_out(s_, scans[piece.node].columns);
        into = &partial[j];
      }
      count_rows(s_, batch[round[piece.node].tree], piece.begin, piece.end, *into, scratch[worker]);
    });
    for (size_t j = 0; j < pieces.size(); ++j) {
      if (partial[j].counts.empty()) continue;
      auto& total = scans[pieces[j].node].counts;
      for (size_t e = 0; e < total.size(); ++e) total[e] += partial[j].counts[e];
      partial[j] = {};
    }
    // Every node's counts over the columns it needs: the larger siblings'
    // from their parent, the smaller's and their own scan; then the others'.
    std::vector<size_t> larger;
    for (size_t i = 0; i < round.size(); ++i) {
      if (smaller[i] != round.size()) larger.push_back(i);
    }
    run_tasks(larger.size(), threads_, [&](size_t t, int) {
      const size_t i = larger[t];
      const ColumnCounts& parent = *round[i].parent;
      const ColumnCounts& other = scans[smaller[i]];
      auto counts = std::make_shared<ColumnCounts>();
      counts->lay_out(s_, round[i].columns);
      const auto K32 = static_cast<uint32_t>(K);
      for (size_t c = 0; c < counts->columns.size(); ++c) {
        const int column = counts->columns[c];
        const uint32_t n = s_.set->columns()[static_cast<size_t>(column)].entries * K32;
        uint32_t* out = counts->counts.data() + counts->base[c];
        if (const uint32_t* p = parent.of(column)) {
          const uint32_t* o = other.of(column);
          for (uint32_t e = 0; e < n; ++e) out[e] = p[e] - o[e];
        } else {
          const uint32_t* d = scans[i].of(column);
          std::copy(d, d + n, out);
        }
      }
      round[i].counts = std::move(counts);
    });
    for (size_t i = 0; i < round.size(); ++i) {
      if (!round[i].counts) round[i].counts = std::make_shared<ColumnCounts>(std::move(scans[i]));
    }
    std::vector<int64_t> hist(counters, 0);
    run_tasks(round.size(), threads_, [&](size_t i, int) {
      add_histogram(s_, round[i], hist.data() + round[i].hist_offset);
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
      OpenNode& open = round[i];
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
      std::shared_ptr<const ColumnCounts> kept;
      if (kept_bytes + open.counts->bytes() <= kKeptCountsBudget) {
        kept_bytes += open.counts->bytes();
        kept = open.counts;
      }
      OpenNode left{};
      left.tree = open.tree;
      left.node = left_node;
      left.begin = open.begin;
      left.end = split.middle;
      left.id = open.id * 2;
      left.parent = kept;
      OpenNode right = left;
      right.node = left_node + 1;
      right.begin = split.middle;
      right.end = open.end;
      right.id = open.id * 2 + 1;
      next.push_back(std::move(left));
      next.push_back(std::move(right));
    }
    for (OpenNode& open : round) {
      open.counts.reset();
      open.parent.reset();
    }
  }

  void allreduce(std::vector<int64_t>& values) { counted_allreduce(comm_, values, stats_); }

  const Shape& s_;
  int threads_;
  dist::Communicator& comm_;
  TrainStats& stats_;
};

void normalise(Tree& tree, int K) {
  tree.leaf_values.assign(tree.counts.size(), 0.0);
  for (size_t n = 0; n < tree.nodes.size(); ++n) {
    const double* c = &tree.counts[n * K];
    const double total = std::accumulate(c, c + K, 0.0);
    if (total <= 0) continue;
    for (int k = 0; k < K; ++k) tree.leaf_values[n * K + k] = c[k] / total;
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
  forest_params().check(options.params, ParamSource{"forest training", ExitCode::kUsage});
  TrainingSet set(find_splits(x, row_keys, options.params.max_bins, options.quantile_sample,
                              std::max(1, options.threads), comm),
                  {});
  set.reserve(x.rows);
  for (size_t r = 0; r < x.rows; ++r) set.add_dense(x.row(r), labels[r], row_keys[r]);
  return train(set, num_classes, options, comm, stats);
}

Forest Forest::train(const TrainingSet& set, int num_classes, const TrainOptions& options,
                     dist::Communicator& comm, TrainStats* stats) {
  const size_t rows = set.rows();
  if (rows > std::numeric_limits<uint32_t>::max()) {
    fail_data("forest training supports at most 2^32-1 rows per rank");
  }
  for (uint8_t label : set.labels()) {
    if (label >= num_classes) fail_internal("forest training: label out of range");
  }
  const ForestParams& p = options.params;
  forest_params().check(p, ParamSource{"forest training", ExitCode::kUsage});
  std::array<int64_t, 1> total_rows{static_cast<int64_t>(rows)};
  comm.allreduce_sum(total_rows);
  if (total_rows[0] == 0) fail_data("cannot train a forest on zero rows");
  const int threads = std::max(1, options.threads);
  const auto criterion = make_criterion(options.impurity);

  Forest forest;
  forest.num_classes_ = num_classes;
  forest.num_features_ = set.num_features();
  forest.options_ = options;
  forest.options_.threads = 1;  // not part of the model

  const Shape shape{&set,
                    set.labels(),
                    set.keys(),
                    set.splits(),
                    num_classes,
                    set.num_features(),
                    features_per_node(p.feature_subset_strategy, set.num_features()),
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
    const double* p = &tree.leaf_values[static_cast<size_t>(n) * K];
    for (int k = 0; k < K; ++k) out[k] += p[k];
  }
  finish(out, 1);
}

void finish_sums(Algorithm algorithm, size_t trees, int num_classes,
                 std::span<const double> base_score, double* sums, size_t rows) {
  const auto K = static_cast<size_t>(num_classes);
  if (algorithm == Algorithm::kRandomForest) {
    const double scale = 1.0 / static_cast<double>(trees);
    for (size_t i = 0; i < rows * K; ++i) sums[i] *= scale;
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    double* z = sums + r * K;
    double top = -std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < K; ++k) {
      z[k] += base_score[k];
      top = std::max(top, z[k]);
    }
    double total = 0;
    for (size_t k = 0; k < K; ++k) total += z[k] = std::exp(z[k] - top);
    for (size_t k = 0; k < K; ++k) z[k] /= total;
  }
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

std::vector<double> Forest::predict_proba(const TrainingSet& rows, size_t begin, size_t end,
                                          int threads) const {
  if (rows.num_features() != num_features_) {
    fail_internal("forest expects " + std::to_string(num_features_) + " features, got " +
                  std::to_string(rows.num_features()));
  }
  // Each split as a test of the stored value: a row goes right when the value
  // minus `low` is at most `span` (unsigned): a bin above the threshold's
  // index for a numeric feature, the feature's own code for a one-hot one.
  // The right child follows the left one, and a leaf leads to itself, so a
  // block of rows takes `depth` steps down a tree in lockstep, with no branch.
  struct BinnedNode {
    uint32_t offset;
    uint32_t mask;  // 0xFF or 0xFFFF (a two-byte code); 0 at a leaf
    uint32_t low;
    uint32_t span;
    int32_t left;  // a leaf: itself
  };
  std::vector<std::vector<BinnedNode>> binned(trees_.size());
  std::vector<int> depth(trees_.size());
  for (size_t t = 0; t < trees_.size(); ++t) {
    depth[t] = trees_[t].depth();
    for (const Tree::Node& node : trees_[t].nodes) {
      if (node.feature < 0) {
        binned[t].push_back({0, 0, 1, 0, static_cast<int32_t>(binned[t].size())});
        continue;
      }
      const auto& thresholds = rows.splits()[static_cast<size_t>(node.feature)].thresholds;
      const auto it = std::lower_bound(thresholds.begin(), thresholds.end(), node.threshold);
      if (it == thresholds.end() || *it != node.threshold || node.right != node.left + 1)
        fail_internal("forest: a split that is not one of the training set's");
      const StoredColumn& column =
          rows.columns()[static_cast<size_t>(rows.column_of(node.feature))];
      const int code = rows.code_of(node.feature);
      const uint32_t mask = column.wide ? 0xFFFF : 0xFF;
      const auto bin = static_cast<uint32_t>(it - thresholds.begin());
      binned[t].push_back(
          code >= 0 ? BinnedNode{column.offset, mask, static_cast<uint32_t>(code), 0, node.left}
                    : BinnedNode{column.offset, mask, bin + 1, mask, node.left});
    }
  }
  const int K = num_classes_;
  end = std::min(end, rows.rows());
  begin = std::min(begin, end);
  std::vector<double> proba((end - begin) * K, 0.0);
  // Blocks of rows walk one tree at a time, so its nodes stay in cache.
  constexpr size_t kBlock = 64;
  parallel_for((end - begin + kBlock - 1) / kBlock, threads, 8, [&](size_t from, size_t to) {
    for (size_t block = from; block < to; ++block) {
      const size_t first = begin + block * kBlock;
      const size_t last = std::min(end, first + kBlock);
      for (size_t t = 0; t < trees_.size(); ++t) {
        const BinnedNode* nodes = binned[t].data();
        const double* leaf = trees_[t].leaf_values.data();
        std::array<int32_t, kBlock> at{};
        for (int step = 0; step < depth[t]; ++step) {
          for (size_t j = 0; j < last - first; ++j) {
            const BinnedNode& node = nodes[at[j]];
            const uint8_t* p = rows.row(first + j) + node.offset;
            const uint32_t v = static_cast<uint32_t>(p[0] | (p[1] << 8)) & node.mask;
            at[j] = node.left + static_cast<int32_t>(v - node.low <= node.span);
          }
        }
        for (size_t j = 0; j < last - first; ++j) {
          double* out = proba.data() + (first - begin + j) * K;
          for (int k = 0; k < K; ++k) out[k] += leaf[static_cast<size_t>(at[j]) * K + k];
        }
      }
      finish(proba.data() + (first - begin) * K, last - first);
    }
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
  if (algorithm_ == Algorithm::kGradientBoostedTrees) {
    for (const Tree& tree : trees_)
      for (const auto& node : tree.nodes)
        if (node.feature >= 0) total[node.feature] += node.gain;
    const double sum = std::accumulate(total.begin(), total.end(), 0.0);
    if (sum > 0) {
      for (double& v : total) v /= sum;
    }
    return total;
  }
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
  if (algorithm_ == Algorithm::kGradientBoostedTrees) return boosted_json();
  const ForestParams& p = options_.params;
  nlohmann::json json;
  json[kFormatKey] = "loadcast-forest";
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
    if (json.at(kFormatKey).get<std::string>() != "loadcast-forest") {
      fail_data("not a loadcast forest");
    }
    const int version = whole_number<int>(json.at("formatVersion"));
    if (version != kFormatVersion) {
      fail_data("forest format version " + std::to_string(version) +
                " is not supported (expected " + std::to_string(kFormatVersion) + ")");
    }
    if (json.contains(kAlgorithmField)) {
      const auto name = json.at(kAlgorithmField).get<std::string>();
      if (name == kGradientBoostedTreesName) return boosted_from_json(json);
      if (name != kRandomForestName) fail_data("unknown algorithm '" + name + "'");
    }
    forest.num_classes_ = whole_number<int>(json.at("numClasses"));
    forest.num_features_ = whole_number<int>(json.at("numFeatures"));
    const auto& p = json.at("params");
    auto& o = forest.options_;
    std::vector<std::string> others;  // the training options below
    if (!p.is_object()) fail_data("bad forest: params is not an object");
    forest_params().read(p, o.params, ParamSource{"bad forest", ExitCode::kData}, others);
    o.impurity = p.at(kImpurityField).get<std::string>();
    o.quantile_sample = whole_number<size_t>(p.at(kQuantileSampleField));
    const int K = forest.num_classes_;
    if (K < 1 || forest.num_features_ < 0) fail_data("bad forest: class or feature count");
    for (const auto& t : json.at("trees")) {
      Tree tree;
      const auto feature = whole_numbers<int32_t>(t.at("feature"));
      const auto threshold = t.at("threshold").get<std::vector<double>>();
      const auto left = whole_numbers<int32_t>(t.at("left"));
      const auto right = whole_numbers<int32_t>(t.at("right"));
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
