// Split criteria for the forest: the impurity of a node from its weighted
// class counts. A split's gain is impurity(parent) minus the weighted
// impurities of its children; a new criterion only implements `impurity`.
#pragma once

#include <memory>
#include <span>
#include <string_view>

namespace loadcast::forest {

class Criterion {
 public:
  virtual ~Criterion() = default;
  virtual std::string_view name() const = 0;
  // REQUIRES: total == sum(counts) > 0.
  virtual double impurity(std::span<const double> counts, double total) const = 0;
};

// "gini" or "entropy"; throws Failure(kUsage) for anything else.
std::unique_ptr<Criterion> make_criterion(std::string_view name);

}  // namespace loadcast::forest
