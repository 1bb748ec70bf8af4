#include "forest/params.h"

namespace loadcast::forest {

const ParamSet<ForestParams>& forest_params() {
  static const ParamSet<ForestParams> set = [] {
    ParamSet<ForestParams> s("forest.");
    using P = ForestParams;
    s.integer<int>(kNumTreesField, &P::num_trees, 100, 1, 10000, "trees in the forest");
    s.integer<int>("maxDepth", &P::max_depth, 8, 1, 30,
                   "deepest level a tree may reach (the root is at depth 0)");
    s.integer<uint64_t>(kSeedParam, &P::seed, 42, 0, INT64_MAX,
                        "seed of the bootstrap weights and the feature subsets");
    s.integer<int>("maxBins", &P::max_bins, 32, 2, 256,
                   "most bins per continuous feature; thresholds come from quantiles of the "
                   "training rows");
    s.choice<std::string>(
        "featureSubsetStrategy", &P::feature_subset_strategy, "sqrt",
        {{"all", "all"}, {"sqrt", "sqrt"}, {"log2", "log2"}, {"onethird", "onethird"}},
        "features tried at each node: all, sqrt (the square root of their number, rounded up), "
        "log2 or onethird; auto means sqrt",
        {{"auto", "sqrt"}});
    s.real("subsamplingRate", &P::subsampling_rate, 1.0, RealRange{0, 1, true, false},
           "mean of each row's Poisson bootstrap weight in a tree (1.0: a full bootstrap)");
    return s;
  }();
  return set;
}

ForestParams::ForestParams() { forest_params().set_defaults(*this); }

}  // namespace loadcast::forest
