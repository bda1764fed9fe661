// What a node of a graph costs, by its op's rules in the registry: the one place the
// passes (checkpoint, schedule) and `nng stats` ask.
#pragma once

#include <cstdint>

#include "core/ir/graph.h"

namespace nng {

// FLOPs of node `n` of `g` with every symbolic dimension bound to `batch`; 0 for an op
// without a FLOP rule.
double nodeFlops(const Graph &g, const Node &n, int64_t batch);

} // namespace nng
