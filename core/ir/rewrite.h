// GraphRewriter: how passes build a new graph from an old one. The graph is
// append-only and kept in topological order, so a pass that removes, replaces or
// reorders nodes walks the old graph and emits into a fresh one, mapping old value
// ids to new ones. Inputs, params and buffers are copied up front (params can be
// dropped), so names and declaration order survive every pass.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace nng {

class GraphRewriter {
public:
  // `keepParam[v]` (indexed by old ValueId) false drops that param or buffer; empty
  // keeps them all. Inputs are always kept.
  explicit GraphRewriter(const Graph &src, const std::vector<bool> &keepParam = {});

  const Graph &src() const { return src_; }
  Graph &out() { return out_; }

  // The new id of old value `v`; kNone while it has not been emitted.
  ValueId map(ValueId v) const { return map_.at(static_cast<size_t>(v)); }
  // Makes uses of old value `v` read new value `now` (a replacement).
  void setMap(ValueId v, ValueId now) { map_.at(static_cast<size_t>(v)) = now; }

  // Copies old node `n` with its inputs mapped; keeps op, attributes, name, type,
  // location and call chain. Returns the new output id (also recorded as map).
  ValueId copy(NodeId n);
  // Appends `op(inputs, attrs)` with `inputs` already new ids; the type is inferred
  // through the op registry (defaults filled in). Throws TypeError when it does not
  // type-check, which in a pass is a bug.
  ValueId emit(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs,
               const std::string &name = "", const SourceLoc &loc = {},
               std::vector<std::string> callChain = {});

  // Marks the mapped outputs and loss and returns the new graph. Every output and
  // the loss must have been mapped.
  Graph finish();

private:
  const Graph &src_;
  Graph out_;
  std::vector<ValueId> map_;
  // emit()'s input types, kept from call to call: assigning a type into a slot reuses its
  // shape's storage.
  std::vector<TensorType> inTypes_;
};

// Consumers of every value: users[v] lists the nodes reading v (once per input slot).
std::vector<std::vector<NodeId>> usersOf(const Graph &g);

// The graph with the printer's temporary names (t0, t1, ...: see printedNames) cleared
// on values that are not inputs, params, outputs or the loss. A graph parsed from
// printed source has them as real names; clearing them lets passes number new
// temporaries as they would have in one process, so `nng optimize --a m.nn | nng
// optimize --b -` prints what `nng optimize --a --b m.nn` prints.
void unnameTemporaries(Graph &g);

// Whether `v` is an output of the graph or its loss: such values must survive passes.
std::vector<bool> externallyUsed(const Graph &g);

} // namespace nng
