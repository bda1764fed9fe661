// Float retyping (see retype.h). Values keep their ids, names and order.
#include "core/ir/retype.h"

namespace nng {

Graph retypeFloats(const Graph &g, DType from, DType to) {
  auto retype = [&](TensorType t) {
    if (t.dtype == from)
      t.dtype = to;
    return t;
  };
  Graph out;
  out.name = g.name;
  std::vector<ValueId> map(g.values().size(), kNone);
  auto declare = [&](ValueId id) {
    const Value &v = g.value(id);
    if (v.kind == ValueKind::Input)
      map[id] = out.addInput(v.name, retype(v.type), v.loc);
    else
      map[id] = out.addParam(v.name, retype(v.type), v.init, v.loc, v.kind);
  };
  for (ValueId id : g.inputs())
    declare(id);
  for (ValueId id : g.params())
    declare(id);
  for (const Node &n : g.nodes()) {
    AttrMap attrs = n.attrs;
    for (const char *key : {"dtype", "to"}) {
      auto it = attrs.find(key);
      if (it != attrs.end() && it->second.kind == Attr::Kind::Name && it->second.s == dtypeName(from))
        it->second.s = dtypeName(to);
    }
    std::vector<ValueId> ins;
    for (ValueId in : n.inputs)
      ins.push_back(map[in]);
    const Value &v = g.value(n.output);
    map[n.output] = out.addNode(n.op, ins, attrs, retype(v.type), v.name, n.loc, n.callChain);
  }
  for (ValueId o : g.outputs())
    out.markOutput(map[o]);
  if (g.loss())
    out.setLoss(map[*g.loss()]);
  return out;
}

} // namespace nng
