// Fault points installed for the length of one test (common/faults.h).
#pragma once

#include <functional>
#include <string_view>
#include <utility>

#include "common/faults.h"

namespace loadcast::testing {

// Installs fault points for one test: `fault` decides for every point.
class ScopedFaults : public FaultPoints {
 public:
  using Decide = std::function<Fault(std::string_view point, std::string_view target)>;
  explicit ScopedFaults(Decide decide) : decide_(std::move(decide)) { install_fault_points(this); }
  ~ScopedFaults() override { install_fault_points(nullptr); }
  Fault at(std::string_view point, std::string_view target, int) override {
    const Fault f = decide_(point, target);
    if (f != Fault::kNone) ++hits;
    return f;
  }
  int hits = 0;

 private:
  Decide decide_;
};

}  // namespace loadcast::testing
