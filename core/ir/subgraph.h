// The part of a graph that computes some of its values: the nodes they depend on,
// and the inputs and params those nodes read. Prediction and `nng run` use it so
// that a model's labels need not be fed to compute its logits.
#pragma once

#include <vector>

#include "core/ir/graph.h"

namespace nng {

// A new graph computing `roots` (marked as its outputs); no loss. Names, types and
// order are kept.
Graph subgraphFor(const Graph &g, const std::vector<ValueId> &roots);

} // namespace nng
