// Gradient checking: autodiff's gradients against central finite differences,
// in float64 on random inputs. Backs `nng gradcheck` and the per-op tests.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace nng {

struct GradCheckOptions {
  int64_t batch = 3;             // every symbolic dimension is bound to this
  uint64_t seed = 1;             // inputs, params and which elements are probed
  int64_t elementsPerParam = 12; // probed elements per parameter (all if fewer)
  double eps = 5e-4;             // the finite-difference step (five-point formula)
};

struct ParamGradError {
  std::string param;
  int64_t checked = 0;     // elements probed
  double maxRelError = 0;  // max |a - n| / max(|a|, |n|, kGradCheckFloor)
  double analytic = 0, numeric = 0; // at the worst element
};

// Below this magnitude a gradient is compared absolutely: five-point differences in
// float64 with eps = 5e-4 are accurate to about 1e-11, so a relative error of 1e-6
// against this floor still detects any real error in a rule.
constexpr double kGradCheckFloor = 1e-4;

// Throws UserError when the model has no `minimize` statement.
std::vector<ParamGradError> gradCheck(const Graph &model, const GradCheckOptions &opts = {});

} // namespace nng
