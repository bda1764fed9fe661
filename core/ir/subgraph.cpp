// subgraphFor: a backward reachability sweep, then a copy in the original order.
#include "core/ir/subgraph.h"

namespace nng {

Graph subgraphFor(const Graph &g, const std::vector<ValueId> &roots) {
  std::vector<bool> needed(g.values().size(), false);
  for (ValueId r : roots)
    needed[r] = true;
  for (size_t n = g.nodes().size(); n-- > 0;) {
    const Node &node = g.nodes()[n];
    if (needed[node.output])
      for (ValueId in : node.inputs)
        needed[in] = true;
  }
  Graph out;
  out.name = g.name;
  std::vector<ValueId> map(g.values().size(), kNone);
  for (ValueId v : g.inputs())
    if (needed[v])
      map[v] = out.addInput(g.value(v).name, g.typeOf(v), g.value(v).loc);
  for (ValueId v : g.params())
    if (needed[v])
      map[v] = out.addParam(g.value(v).name, g.typeOf(v), g.value(v).init, g.value(v).loc,
                            g.value(v).kind);
  for (const Node &n : g.nodes()) {
    if (!needed[n.output])
      continue;
    std::vector<ValueId> ins;
    for (ValueId in : n.inputs)
      ins.push_back(map[in]);
    const Value &v = g.value(n.output);
    map[n.output] = out.addNode(n.op, ins, n.attrs, v.type, v.name, n.loc, n.callChain);
  }
  for (ValueId r : roots)
    out.markOutput(map[r]);
  return out;
}

} // namespace nng
