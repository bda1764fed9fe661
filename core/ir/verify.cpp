// The graph verifier: run after lowering and after every pass, so it is kept linear in
// the graph's size and allocates little per node; messages are built only for problems.
#include <memory_resource>
#include <string_view>
#include <unordered_set>

#include "core/ir/graph.h"
#include "core/ops/registry.h"

namespace nng {

std::vector<std::string> verify(const Graph &g) {
  std::vector<std::string> problems;
  auto bad = [&](const std::string &s) { problems.push_back(s); };
  const auto &values = g.values();
  std::vector<bool> defined(values.size(), false);
  // Views of the values' names, which outlive this function. The set's entries come from
  // one arena, freed at once: a heap block per name cost as much as the rest of the check.
  std::pmr::monotonic_buffer_resource arena;
  std::pmr::unordered_set<std::string_view> names(&arena);
  names.reserve(values.size());

  for (size_t i = 0; i < values.size(); ++i) {
    const Value &v = values[i];
    if (!v.name.empty() && !names.insert(v.name).second)
      bad("value name '" + v.name + "' is used twice");
    if (v.kind != ValueKind::Node)
      defined[i] = true;
    for (const Dim &d : v.type.shape)
      if (d.isKnown() && d.value < 0)
        bad("value '" + v.name + "' has a negative dimension");
  }

  // Reused from node to node: assigning a type into a slot reuses its shape's storage.
  std::vector<TensorType> inTypes;
  for (size_t n = 0; n < g.nodes().size(); ++n) {
    const Node &node = g.nodes()[n];
    auto where = [&] { return "node " + std::to_string(n) + " (" + node.op + ")"; };
    const OpDef *op = opRegistry().find(node.op);
    if (!op) {
      bad(where() + ": unknown op");
      continue;
    }
    size_t count = 0;
    bool inputsOk = true;
    for (ValueId in : node.inputs) {
      if (in < 0 || static_cast<size_t>(in) >= values.size() || !defined[in]) {
        bad(where() + ": input used before it is defined");
        inputsOk = false;
        continue;
      }
      if (count == inTypes.size())
        inTypes.push_back(values[in].type);
      else
        inTypes[count] = values[in].type;
      ++count;
    }
    inTypes.resize(count);
    if (node.output < 0 || static_cast<size_t>(node.output) >= values.size() ||
        values[node.output].producer != static_cast<NodeId>(n)) {
      bad(where() + ": output does not point back to the node");
      continue;
    }
    defined[node.output] = true;
    if (!inputsOk)
      continue;
    try {
      TensorType t;
      if (attrsComplete(*op, node.attrs)) {
        t = inferCompleteType(*op, inTypes, node.attrs);
      } else {
        // Only a node with a problem pays for a copy: completing it says what is wrong.
        AttrMap attrs = node.attrs;
        t = inferType(*op, inTypes, attrs);
        if (attrs != node.attrs)
          bad(where() + ": attributes are not complete (defaults not filled)");
      }
      if (t != values[node.output].type)
        bad(where() + ": stored type " + values[node.output].type.str() +
            " differs from inferred " + t.str());
    } catch (const TypeError &e) {
      bad(where() + ": " + e.what());
    }
  }

  for (ValueId o : g.outputs())
    if (o < 0 || static_cast<size_t>(o) >= values.size() || !defined[o])
      bad("output is not a defined value");
  if (auto loss = g.loss()) {
    if (*loss < 0 || static_cast<size_t>(*loss) >= values.size())
      bad("loss is not a defined value");
    else if (values[*loss].type.rank() != 0)
      bad("loss '" + values[*loss].name + "' is not a scalar: " + values[*loss].type.str());
  }
  return problems;
}

} // namespace nng
