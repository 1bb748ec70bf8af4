#include "forest/params.h"

namespace loadcast::forest {

const char* algorithm_name(Algorithm algorithm) {
  return algorithm == Algorithm::kRandomForest ? kRandomForestName : kGradientBoostedTreesName;
}

namespace {

// Both ensembles bin their features alike; only the default differs.
constexpr const char* kMaxBinsField = "maxBins";
constexpr const char* kMaxBinsHelp =
    "most bins per continuous feature; thresholds come from quantiles of the training rows";

}  // namespace

const ParamSet<ForestParams>& forest_params() {
  static const ParamSet<ForestParams> set = [] {
    ParamSet<ForestParams> s("forest.");
    using P = ForestParams;
    s.integer<int>(kNumTreesField, &P::num_trees, 100, 1, 10000, "trees in the forest");
    s.integer<int>("maxDepth", &P::max_depth, 8, 1, 30,
                   "deepest level a tree may reach (the root is at depth 0)");
    s.integer<uint64_t>(kSeedParam, &P::seed, 42, 0, INT64_MAX,
                        "seed of the bootstrap weights and the feature subsets");
    s.integer<int>(kMaxBinsField, &P::max_bins, 32, 2, 256, kMaxBinsHelp);
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

const ParamSet<BoostParams>& boost_params() {
  static const ParamSet<BoostParams> set = [] {
    ParamSet<BoostParams> s("boosting.");
    using P = BoostParams;
    s.integer<int>("numRounds", &P::num_rounds, 200, 1, 100000,
                   "boosting rounds; each adds one tree per class");
    s.integer<int>("maxDepth", &P::max_depth, 6, 1, 16,
                   "deepest level a tree may reach (the root is at depth 0)");
    s.real("learningRate", &P::learning_rate, 0.1, RealRange{0, 1, true, false},
           "shrinkage of every tree's leaf values");
    s.real("minChildWeight", &P::min_child_weight, 1.0, RealRange{0, 1e9},
           "least hessian sum a child of a split must hold");
    s.real("l2Regularization", &P::l2_regularization, 1.0, RealRange{0, 1e9},
           "L2 penalty on leaf values (XGBoost's lambda)");
    s.real("subsample", &P::subsample, 1.0, RealRange{0, 1, true, false},
           "share of the training rows each round's trees see, drawn per row and round");
    s.real("colsample", &P::colsample, 1.0, RealRange{0, 1, true, false},
           "share of the features each tree may split on, drawn per tree");
    s.integer<int>("earlyStoppingRounds", &P::early_stopping_rounds, 0, 0, 100000,
                   "stop when the validation tail's log loss has not improved for this many "
                   "rounds and keep the best round's trees; 0: every round, no validation tail");
    s.integer<int>("validationDays", &P::validation_days, 2, 1, 3650,
                   "with early stopping: the last days before testSplitStart, held out of "
                   "training to watch the loss on");
    s.integer<uint64_t>(kSeedParam, &P::seed, 42, 0, INT64_MAX,
                        "seed of the row subsamples and the feature subsets");
    s.integer<int>(kMaxBinsField, &P::max_bins, 256, 2, 256, kMaxBinsHelp);
    return s;
  }();
  return set;
}

ForestParams::ForestParams() { forest_params().set_defaults(*this); }
BoostParams::BoostParams() { boost_params().set_defaults(*this); }

}  // namespace loadcast::forest
