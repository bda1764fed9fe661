// Reverse-mode automatic differentiation as a Graph -> Graph rewrite.
#pragma once

#include "core/ir/graph.h"

namespace nng {

// Appends to `g` the backward graph of its loss: for every trainable param that
// reaches the loss, a value named `grad.<param>` marked as an output. Gradients of
// values with several consumers are summed; nodes that do not lie on a path from a
// param to the loss get no backward nodes. Returns false (changing nothing) when
// the graph has no loss. Throws UserError when an op on the path has no gradient.
//
// Stages: (1) mark the nodes that depend on a param and that the loss depends on;
// (2) seed d(loss) = 1; (3) walk those nodes in reverse order, asking each op's
// gradient rule for its inputs' gradients and accumulating them; (4) name and
// output the parameter gradients.
bool differentiate(Graph &g);

// Whether `g` already holds the gradient of some param (it went through autodiff).
bool hasGradients(const Graph &g);

// The name autodiff gives the gradient of `param`.
std::string gradName(const std::string &param);

} // namespace nng
