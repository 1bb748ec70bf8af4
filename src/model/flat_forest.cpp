#include "model/flat_forest.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LOADCAST_FLAT_X86 1
#endif

namespace loadcast {
namespace {

// Rows per block: their transposed features (64 x features floats) and
// sums stay in L1 while every tree scores them.
constexpr size_t kBlockRows = 64;
constexpr size_t kLanes = FlatForest::kLanes;

using Kernel = FlatForest::Kernel;
using MaskNode = FlatForest::MaskNode;

// The best bit-vector kernel this CPU runs.
Kernel best_kernel() {
#ifdef LOADCAST_FLAT_X86
  static const Kernel best = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                                 ? Kernel::kAvx512
                             : __builtin_cpu_supports("avx2") ? Kernel::kAvx2
                                                              : Kernel::kWalk;
  return best;
#else
  return Kernel::kWalk;
#endif
}

#ifdef LOADCAST_FLAT_X86
// The leaf masks of every row of `groups` transposed groups (each
// `group_floats` apart) after all inner nodes of one masked tree: a row
// failing a node's test (not x <= threshold, NaN included) keeps only the
// node's `keep` leaves. exits[g * 8 + lane].
__attribute__((target("avx512f,avx512vl"))) void masked_exits_avx512(
    const MaskNode* begin, const MaskNode* end, const float* groups_begin, size_t group_floats,
    size_t groups, uint64_t* exits) {
  for (size_t g = 0; g < groups; ++g) {
    const float* group = groups_begin + g * group_floats;
    __m512i leaves = _mm512_set1_epi64(-1);
    for (const MaskNode* node = begin; node != end; ++node) {
      const __m256 x = _mm256_loadu_ps(group + node->slot);
      const __mmask8 fail = _mm256_cmp_ps_mask(x, _mm256_set1_ps(node->threshold), _CMP_NLE_UQ);
      leaves = _mm512_mask_and_epi64(leaves, fail, leaves,
                                     _mm512_set1_epi64(static_cast<long long>(node->keep)));
    }
    _mm512_storeu_si512(exits + g * kLanes, leaves);
  }
}

__attribute__((target("avx2"))) void masked_exits_avx2(const MaskNode* begin, const MaskNode* end,
                                                       const float* groups_begin,
                                                       size_t group_floats, size_t groups,
                                                       uint64_t* exits) {
  for (size_t g = 0; g < groups; ++g) {
    const float* group = groups_begin + g * group_floats;
    __m256i low = _mm256_set1_epi64x(-1);   // lanes 0..3
    __m256i high = _mm256_set1_epi64x(-1);  // lanes 4..7
    for (const MaskNode* node = begin; node != end; ++node) {
      const __m256 x = _mm256_loadu_ps(group + node->slot);
      const __m256i fail =
          _mm256_castps_si256(_mm256_cmp_ps(x, _mm256_set1_ps(node->threshold), _CMP_NLE_UQ));
      const __m256i keep = _mm256_set1_epi64x(static_cast<long long>(node->keep));
      // leaves &= ~(fail & ~keep), fail widened to the 64-bit lanes.
      const __m256i fail_low = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(fail));
      const __m256i fail_high = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(fail, 1));
      low = _mm256_andnot_si256(_mm256_andnot_si256(keep, fail_low), low);
      high = _mm256_andnot_si256(_mm256_andnot_si256(keep, fail_high), high);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(exits + g * kLanes), low);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(exits + g * kLanes + 4), high);
  }
}
#endif

}  // namespace

FlatForest::FlatForest(const forest::Forest& forest, Kernel kernel)
    : num_classes_(forest.num_classes()),
      num_features_(forest.num_features()),
      algorithm_(forest.algorithm()),
      base_score_(forest.base_score()) {
  const Kernel best = best_kernel();
  kernel_ = kernel == Kernel::kBest ? best : std::min(kernel, best);
  const int K = num_classes_;
  const float kLeafThreshold =
      std::numeric_limits<float>::quiet_NaN();  // x <= NaN is false: go to left + 1
  for (const forest::Tree& tree : forest.trees()) {
    // Breadth first from the root; each inner node's children get adjacent slots.
    const auto root = static_cast<int32_t>(nodes_.size());
    struct Pending {
      int32_t source;
      int32_t slot;
      int32_t level;
    };
    std::vector<Pending> queue{{0, root, 0}};
    nodes_.push_back({});
    int32_t depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      const Pending p = queue[q];
      const forest::Tree::Node& node = tree.nodes[p.source];
      depth = std::max(depth, p.level);
      if (node.feature < 0) {
        nodes_[p.slot] = {kLeafThreshold, 0, p.slot - 1, 0};
        continue;
      }
      const auto left = static_cast<int32_t>(nodes_.size());
      nodes_.push_back({});
      nodes_.push_back({});
      nodes_[p.slot] = {node.threshold, node.feature * static_cast<int32_t>(kLanes), left, 1};
      queue.push_back({node.left, left, p.level + 1});
      queue.push_back({node.right, left + 1, p.level + 1});
      // A node reached twice makes a DAG, not a tree (the loader only checks
      // that children follow their parent); such a forest keeps the plain path.
      if (queue.size() > tree.nodes.size()) {
        nodes_.clear();
        trees_.clear();
        leaf_proba_.clear();
        mask_nodes_.clear();
        mask_leaf_proba_.clear();
        return;
      }
    }
    leaf_proba_.resize(nodes_.size() * K, 0.0);
    for (const Pending& p : queue) {
      if (tree.nodes[p.source].feature >= 0) continue;
      std::copy_n(tree.leaf_values.begin() + static_cast<ptrdiff_t>(p.source) * K, K,
                  leaf_proba_.begin() + static_cast<ptrdiff_t>(p.slot) * K);
    }
    TreeSpan span{root, depth, 0, 0, 0, false};
    if (kernel_ != Kernel::kWalk) build_masks(span);
    trees_.push_back(span);
  }
}

void FlatForest::build_masks(TreeSpan& tree) {
  // The tree's slots are [root, end); children come after their parent.
  const auto end = static_cast<int32_t>(nodes_.size());
  const int32_t root = tree.root;
  // Leaves left to right: depth first, left child first.
  std::vector<int32_t> leaves;
  std::vector<int32_t> stack{root};
  while (!stack.empty()) {
    const int32_t s = stack.back();
    stack.pop_back();
    if (!nodes_[s].inner) {
      leaves.push_back(s);
      continue;
    }
    stack.push_back(nodes_[s].left + 1);
    stack.push_back(nodes_[s].left);
  }
  if (leaves.size() > 64) return;  // walked

  // The leaves under each slot are a range of that order.
  std::vector<int32_t> first(end - root), last(end - root);  // [first, last)
  for (size_t i = 0; i < leaves.size(); ++i) {
    first[leaves[i] - root] = static_cast<int32_t>(i);
    last[leaves[i] - root] = static_cast<int32_t>(i) + 1;
  }
  for (int32_t s = end - 1; s >= root; --s) {
    if (!nodes_[s].inner) continue;
    first[s - root] = first[nodes_[s].left - root];
    last[s - root] = last[nodes_[s].left + 1 - root];
  }
  const auto bits = [](int32_t from, int32_t to) {
    const uint64_t below_to = to >= 64 ? ~uint64_t{0} : (uint64_t{1} << to) - 1;
    return below_to & ~((uint64_t{1} << from) - 1);
  };
  tree.mask_begin = static_cast<int32_t>(mask_nodes_.size());
  for (int32_t s = root; s < end; ++s) {
    const Node& node = nodes_[s];
    if (!node.inner) continue;
    mask_nodes_.push_back(
        {node.slot, node.threshold, ~bits(first[node.left - root], last[node.left - root])});
  }
  tree.mask_end = static_cast<int32_t>(mask_nodes_.size());
  const size_t K = static_cast<size_t>(num_classes_);
  tree.leaf_begin = static_cast<int32_t>(mask_leaf_proba_.size() / K);
  for (const int32_t leaf : leaves) {
    const auto p = leaf_proba_.begin() + static_cast<ptrdiff_t>(leaf * K);
    mask_leaf_proba_.insert(mask_leaf_proba_.end(), p, p + static_cast<ptrdiff_t>(K));
  }
  tree.masked = true;
}

size_t FlatForest::masked_trees() const {
  return static_cast<size_t>(
      std::count_if(trees_.begin(), trees_.end(), [](const TreeSpan& t) { return t.masked; }));
}

const char* FlatForest::kernel_name(Kernel kernel) {
  switch (kernel) {
    case Kernel::kWalk:
      return "walk";
    case Kernel::kAvx2:
      return "avx2";
    case Kernel::kAvx512:
      return "avx512";
    case Kernel::kBest:
      return kernel_name(best_kernel());
  }
  return "?";
}

void FlatForest::predict_proba(const float* x, size_t rows, double* proba) const {
  const size_t classes = static_cast<size_t>(num_classes_);
  for (size_t begin = 0; begin < rows; begin += kBlockRows) {
    const size_t n = std::min(kBlockRows, rows - begin);
    const float* block = x + begin * num_features_;
    double* out = proba + begin * classes;
    // The labels' three classes with a fixed count; any other count in general.
    if (classes == 3) {
      predict_block<3>(block, n, classes, out);
    } else {
      predict_block<0>(block, n, classes, out);
    }
  }
}

// K: the class count when known at compile time, else 0 (then `classes`).
template <size_t KFixed>
void FlatForest::predict_block(const float* x, size_t rows, size_t classes, double* proba) const {
  const size_t K = KFixed ? KFixed : classes;
  const size_t cols = static_cast<size_t>(num_features_);
  const size_t groups = (rows + kLanes - 1) / kLanes;
  // Each group's features feature-major: lane l of feature f at [f * kLanes + l].
  // Lanes past the last row repeat it; their sums are dropped.
  thread_local std::vector<float> transposed;
  thread_local std::vector<double> sums;
  transposed.resize(groups * cols * kLanes);
  sums.assign(groups * kLanes * K, 0.0);
  for (size_t g = 0; g < groups; ++g) {
    float* t = transposed.data() + g * cols * kLanes;
    for (size_t lane = 0; lane < kLanes; ++lane) {
      const float* row = x + std::min(g * kLanes + lane, rows - 1) * cols;
      for (size_t f = 0; f < cols; ++f) t[f * kLanes + lane] = row[f];
    }
  }
  const Node* nodes = nodes_.data();
  const double* leaves = leaf_proba_.data();
  const auto add = [&](double* out, const double* p) {
    for (size_t k = 0; k < K; ++k) out[k] += p[k];
  };
  thread_local std::vector<uint64_t> exits;
  exits.resize(groups * kLanes);
  // Tree by tree, so that a tree stays in cache for the whole block.
  for (const TreeSpan& tree : trees_) {
#ifdef LOADCAST_FLAT_X86
    if (tree.masked) {
      const MaskNode* begin = mask_nodes_.data() + tree.mask_begin;
      const MaskNode* end = mask_nodes_.data() + tree.mask_end;
      if (kernel_ == Kernel::kAvx512) {
        masked_exits_avx512(begin, end, transposed.data(), cols * kLanes, groups, exits.data());
      } else {
        masked_exits_avx2(begin, end, transposed.data(), cols * kLanes, groups, exits.data());
      }
      const double* tree_leaves =
          mask_leaf_proba_.data() + static_cast<size_t>(tree.leaf_begin) * K;
      for (size_t i = 0; i < groups * kLanes; ++i)
        add(sums.data() + i * K, tree_leaves + static_cast<size_t>(std::countr_zero(exits[i])) * K);
      continue;
    }
#endif
    for (size_t g = 0; g < groups; ++g) {
      const float* t = transposed.data() + g * cols * kLanes;
      int32_t at[kLanes];
      for (size_t lane = 0; lane < kLanes; ++lane) at[lane] = tree.root;
      for (int32_t d = 0; d < tree.depth; ++d) {
        for (size_t lane = 0; lane < kLanes; ++lane) {
          const Node& node = nodes[at[lane]];
          at[lane] = node.left + static_cast<int32_t>(!(t[node.slot + lane] <= node.threshold));
        }
      }
      double* out = sums.data() + g * kLanes * K;
      for (size_t lane = 0; lane < kLanes; ++lane)
        add(out + lane * K, leaves + static_cast<size_t>(at[lane]) * K);
    }
  }
  std::copy_n(sums.data(), rows * K, proba);
  forest::finish_sums(algorithm_, trees_.size(), num_classes_, base_score_, proba, rows);
}

}  // namespace loadcast
