// The forest laid out for scoring. Rows are scored in groups of eight whose
// features are transposed (feature-major), so that one node's test reads the
// eight values side by side. Two kinds of kernels:
//  - bit vectors (QuickScorer, Lucchese et al. 2015) for trees of up to 64
//    leaves on CPUs with AVX-512 or AVX2: every inner node is tested for all
//    eight rows at once, a failed test clears the leaves of its left subtree
//    from the rows' leaf masks, and the exit leaf is the lowest bit left;
//  - a branch-free walk for the other trees: nodes in one array with the two
//    children of a node side by side and leaves pointing at themselves.
// Either way the probabilities equal forest::Forest::predict_proba bit for
// bit: the same leaf values, added per row in the same tree order, finished
// by the same forest::finish_sums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "forest/forest.h"

namespace loadcast {

class FlatForest {
 public:
  enum class Kernel { kWalk, kAvx2, kAvx512, kBest };

  FlatForest() = default;
  // `kernel`: the bit-vector kernel to use, kBest for the best this CPU has;
  // one the CPU lacks falls back to the next one down (tests pick each).
  explicit FlatForest(const forest::Forest& forest, Kernel kernel = Kernel::kBest);

  int num_classes() const { return num_classes_; }
  int num_features() const { return num_features_; }
  // False when the forest's nodes do not form trees (a node with two
  // parents); the caller then scores with Forest::predict_proba.
  bool usable() const { return !trees_.empty(); }

  // Writes rows x num_classes() probabilities of the row-major matrix x
  // (rows x num_features()) into `proba`.
  // REQUIRES: usable(); x holds rows * num_features() values, proba
  // rows * num_classes().
  void predict_proba(const float* x, size_t rows, double* proba) const;

  // The kernel in use, and how many trees it scores (the others are walked).
  Kernel kernel() const { return kernel_; }
  size_t masked_trees() const;
  static const char* kernel_name(Kernel kernel);

  static constexpr size_t kLanes = 8;  // rows scored together

  // Inner node of a walked tree: rows with x[feature] <= threshold go to
  // `left`, others to left + 1. Leaf: threshold NaN and left = its own index
  // - 1, so every further step stays on it. 16 bytes: a shift, not a
  // multiply, per step.
  struct Node {
    float threshold;
    int32_t slot;  // feature * kLanes: the feature's place in a transposed group
    int32_t left;
    int32_t inner;  // 1 for an inner node, 0 for a leaf
  };
  // Inner node of a masked tree.
  struct MaskNode {
    int32_t slot;     // as Node::slot
    float threshold;  // rows with x > threshold (or NaN) leave the left subtree
    uint64_t keep;    // the tree's leaves outside the left subtree, as bits
  };

 private:
  struct TreeSpan {
    int32_t root;        // index into nodes_
    int32_t depth;       // steps from the root to the deepest leaf
    int32_t mask_begin;  // inner nodes in mask_nodes_, when masked
    int32_t mask_end;
    int32_t leaf_begin;  // leaves, left to right, in mask_leaf_proba_ (/ num_classes_)
    bool masked;         // at most 64 leaves
  };

  void build_masks(TreeSpan& tree);
  template <size_t K>
  void predict_block(const float* x, size_t rows, size_t classes, double* proba) const;

  int num_classes_ = 0;
  int num_features_ = 0;
  forest::Algorithm algorithm_ = forest::Algorithm::kRandomForest;
  std::vector<double> base_score_;
  Kernel kernel_ = Kernel::kWalk;
  std::vector<Node> nodes_;
  std::vector<TreeSpan> trees_;
  std::vector<double> leaf_proba_;  // nodes_.size() x num_classes_, zero for inner nodes
  std::vector<MaskNode> mask_nodes_;
  std::vector<double> mask_leaf_proba_;  // masked trees' leaves, left to right, x num_classes_
};

}  // namespace loadcast
