// GraphRewriter: copying a graph node by node with a map from old to new ids.
#include "core/ir/rewrite.h"

#include <cstdint>

#include "core/ops/registry.h"

namespace nng {

GraphRewriter::GraphRewriter(const Graph &src, const std::vector<bool> &keepParam)
    : src_(src), map_(src.values().size(), kNone) {
  out_.name = src.name;
  out_.reserve(src.values().size(), src.nodes().size());
  for (ValueId in : src.inputs()) {
    const Value &v = src.value(in);
    map_[in] = out_.addInput(v.name, v.type, v.loc);
  }
  for (ValueId p : src.params()) {
    if (!keepParam.empty() && !keepParam.at(static_cast<size_t>(p)))
      continue;
    const Value &v = src.value(p);
    map_[p] = out_.addParam(v.name, v.type, v.init, v.loc, v.kind);
  }
}

ValueId GraphRewriter::copy(NodeId n) {
  const Node &node = src_.node(n);
  std::vector<ValueId> inputs;
  inputs.reserve(node.inputs.size());
  for (ValueId in : node.inputs) {
    ValueId m = map(in);
    NNG_CHECK(m != kNone, "rewrite: input of " + node.op + " not emitted yet");
    inputs.push_back(m);
  }
  const Value &v = src_.value(node.output);
  ValueId id = out_.addNode(node.op, std::move(inputs), node.attrs, v.type, v.name, node.loc,
                            node.callChain);
  out_.node(out_.value(id).producer).note = node.note;
  setMap(node.output, id);
  return id;
}

ValueId GraphRewriter::emit(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs,
                            const std::string &name, const SourceLoc &loc,
                            std::vector<std::string> callChain) {
  const OpDef *def = opRegistry().find(op);
  NNG_CHECK(def != nullptr, "rewrite: unknown op " + op);
  inTypes_.resize(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k)
    inTypes_[k] = out_.typeOf(inputs[k]);
  TensorType type = inferType(*def, inTypes_, attrs);
  return out_.addNode(op, std::move(inputs), std::move(attrs), std::move(type), name, loc,
                      std::move(callChain));
}

Graph GraphRewriter::finish() {
  for (ValueId o : src_.outputs()) {
    NNG_CHECK(map(o) != kNone, "rewrite: output " + src_.value(o).name + " was dropped");
    out_.markOutput(map(o));
  }
  if (src_.loss()) {
    NNG_CHECK(map(*src_.loss()) != kNone, "rewrite: the loss was dropped");
    out_.setLoss(map(*src_.loss()));
  }
  return std::move(out_);
}

namespace {

bool looksTemporary(const std::string &name) {
  if (name.size() < 2 || name[0] != 't')
    return false;
  for (size_t i = 1; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9')
      return false;
  return true;
}

} // namespace

void unnameTemporaries(Graph &g) {
  const std::vector<bool> external = externallyUsed(g);
  for (const Node &node : g.nodes())
    if (!external[node.output] && looksTemporary(g.value(node.output).name))
      g.rename(node.output, "");
}

std::vector<std::vector<NodeId>> usersOf(const Graph &g) {
  // Counted first, so each list is allocated once at its size rather than grown.
  std::vector<uint32_t> count(g.values().size(), 0);
  for (const Node &node : g.nodes())
    for (ValueId in : node.inputs)
      ++count[static_cast<size_t>(in)];
  std::vector<std::vector<NodeId>> users(g.values().size());
  for (size_t v = 0; v < users.size(); ++v)
    users[v].reserve(count[v]);
  for (size_t n = 0; n < g.nodes().size(); ++n)
    for (ValueId in : g.node(static_cast<NodeId>(n)).inputs)
      users[static_cast<size_t>(in)].push_back(static_cast<NodeId>(n));
  return users;
}

std::vector<bool> externallyUsed(const Graph &g) {
  std::vector<bool> used(g.values().size(), false);
  for (ValueId o : g.outputs())
    used[static_cast<size_t>(o)] = true;
  if (g.loss())
    used[static_cast<size_t>(*g.loss())] = true;
  return used;
}

} // namespace nng
