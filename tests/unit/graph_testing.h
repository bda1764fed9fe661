// Building graphs by hand in tests: a node whose type and complete attributes come
// from the op registry, as the front end would make it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ops/registry.h"

namespace nng::testing {

inline ValueId addOp(Graph &g, const std::string &op, std::vector<ValueId> inputs,
                     AttrMap attrs = {}, const std::string &name = "",
                     const SourceLoc &loc = {}) {
  const OpDef *def = opRegistry().find(op);
  NNG_CHECK(def, "test op not registered: " + op);
  std::vector<TensorType> types;
  for (ValueId in : inputs)
    types.push_back(g.typeOf(in));
  TensorType t = inferType(*def, types, attrs);
  return g.addNode(op, std::move(inputs), std::move(attrs), t, name, loc);
}

// Every symbolic dimension of `g` ("N") bound to `size`: what Executor::bind takes to
// run a graph at one batch size.
inline std::map<std::string, int64_t> symbolicDimsAt(const Graph &g, int64_t size) {
  std::map<std::string, int64_t> dims;
  for (const Value &v : g.values())
    for (const Dim &d : v.type.shape)
      if (d.isSymbolic())
        dims[d.symbol] = size;
  return dims;
}

} // namespace nng::testing
