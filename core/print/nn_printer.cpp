// The flat-form printer and the shared temporary naming.
#include "core/print/nn_printer.h"

#include <sstream>
#include <unordered_set>

namespace nng {

std::vector<std::string> printedNames(const Graph &g) {
  const auto &values = g.values();
  std::vector<std::string> names(values.size());
  std::unordered_set<std::string> taken;
  for (size_t i = 0; i < values.size(); ++i) {
    names[i] = values[i].name;
    if (!names[i].empty())
      taken.insert(names[i]);
  }
  // Print order, so the numbers read t0, t1, ... down the printed text.
  std::vector<ValueId> order(g.inputs().begin(), g.inputs().end());
  order.insert(order.end(), g.params().begin(), g.params().end());
  for (const Node &n : g.nodes())
    order.push_back(n.output);
  int next = 0;
  for (ValueId id : order) {
    std::string &name = names.at(static_cast<size_t>(id));
    if (!name.empty())
      continue;
    do {
      name = "t" + std::to_string(next++);
    } while (taken.count(name));
    taken.insert(name);
  }
  return names;
}

std::string printedModelName(const Graph &g) { return g.name.empty() ? "main" : g.name; }

std::string printNn(const Graph &g) {
  std::vector<std::string> names = printedNames(g);
  auto nameOf = [&](ValueId id) -> const std::string & {
    return names.at(static_cast<size_t>(id));
  };
  std::ostringstream os;
  os << "model " << printedModelName(g) << " {\n";
  for (ValueId id : g.inputs())
    os << "  input " << nameOf(id) << ": " << g.typeOf(id).str() << ";\n";
  for (ValueId id : g.params()) {
    const Value &v = g.value(id);
    os << "  " << (v.kind == ValueKind::Buffer ? "buffer " : "param ") << nameOf(id) << ": "
       << v.type.str();
    // A param built without an initializer prints none rather than an invented one.
    if (!v.init.kind.empty())
      os << " = " << v.init.str();
    os << ";\n";
  }
  for (const Node &n : g.nodes()) {
    os << "  " << nameOf(n.output) << ": " << g.typeOf(n.output).str() << " = " << n.op << "(";
    const char *sep = "";
    for (ValueId in : n.inputs) {
      os << sep << nameOf(in);
      sep = ", ";
    }
    for (const auto &[key, attr] : n.attrs) {
      os << sep << key << " = " << attr.str();
      sep = ", ";
    }
    os << ");";
    if (!n.note.empty())
      os << "  # " << n.note;
    os << "\n";
  }
  for (ValueId id : g.outputs())
    os << "  output " << nameOf(id) << ";\n";
  if (auto loss = g.loss())
    os << "  minimize " << nameOf(*loss) << ";\n";
  os << "}\n";
  return os.str();
}

} // namespace nng
