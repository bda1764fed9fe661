// Rewrites a graph's floating-point type: every f32 value (and every `dtype`/`to`
// attribute naming f32) becomes `to`. The gradient checks run models in float64.
#pragma once

#include "core/ir/graph.h"

namespace nng {

Graph retypeFloats(const Graph &g, DType from, DType to);

} // namespace nng
