// Node costs from the op registry (costs.h).
#include "core/ops/costs.h"

#include <algorithm>
#include <vector>

#include "core/ops/registry.h"

namespace nng {

double nodeFlops(const Graph &g, const Node &n, int64_t batch) {
  const OpDef *def = opRegistry().find(n.op);
  if (!def || !def->flops)
    return 0;
  std::vector<TensorType> inputs;
  inputs.reserve(n.inputs.size());
  for (ValueId v : n.inputs)
    inputs.push_back(g.typeOf(v));
  return std::max(0.0, def->flops(OpCall{inputs, n.attrs}, g.typeOf(n.output), batch));
}

} // namespace nng
