#include "forest/criterion.h"

#include <cmath>
#include <string>

#include "common/error.h"

namespace loadcast::forest {
namespace {

class Gini final : public Criterion {
 public:
  std::string_view name() const override { return "gini"; }
  double impurity(std::span<const double> counts, double total) const override {
    double sum_sq = 0;
    for (double c : counts) {
      const double p = c / total;
      sum_sq += p * p;
    }
    return 1.0 - sum_sq;
  }
};

class Entropy final : public Criterion {
 public:
  std::string_view name() const override { return "entropy"; }
  double impurity(std::span<const double> counts, double total) const override {
    double h = 0;
    for (double c : counts) {
      if (c <= 0) continue;
      const double p = c / total;
      h -= p * std::log2(p);
    }
    return h;
  }
};

}  // namespace

std::unique_ptr<Criterion> make_criterion(std::string_view name) {
  if (name == "gini") return std::make_unique<Gini>();
  if (name == "entropy") return std::make_unique<Entropy>();
  fail_usage("unknown impurity '" + std::string(name) + "' (expected gini or entropy)");
}

}  // namespace loadcast::forest
