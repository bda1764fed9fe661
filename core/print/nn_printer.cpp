// The flat-form printer and the shared temporary naming.
#include "core/print/nn_printer.h"

#include <sstream>
#include <unordered_set>

namespace nng {

std::optional<int64_t> temporaryNumber(const std::string &name) {
  // At most 18 digits, so the number fits in an int64_t.
  if (name.size() < 2 || name.size() > 19 || name[0] != 't' || (name[1] == '0' && name.size() > 2))
    return std::nullopt;
  int64_t k = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9')
      return std::nullopt;
    k = k * 10 + (name[i] - '0');
  }
  return k;
}

std::vector<int64_t> temporaryNumbers(const Graph &g) {
  const auto &values = g.values();
  std::vector<int64_t> numbers(values.size(), -1);
  // The numbers of the names in use that a temporary could get: a set of a few numbers
  // rather than of every name, which on a large graph cost more than the rest together.
  std::unordered_set<int64_t> taken;
  for (const Value &v : values)
    if (std::optional<int64_t> k = temporaryNumber(v.name))
      taken.insert(*k);
  // Print order, so the numbers read t0, t1, ... down the printed text.
  int64_t next = 0;
  auto assign = [&](ValueId id) {
    if (!g.value(id).name.empty())
      return;
    while (taken.count(next))
      ++next;
    numbers.at(static_cast<size_t>(id)) = next++;
  };
  for (ValueId id : g.inputs())
    assign(id);
  for (ValueId id : g.params())
    assign(id);
  for (const Node &n : g.nodes())
    assign(n.output);
  return numbers;
}

std::vector<std::string> printedNames(const Graph &g) {
  const std::vector<int64_t> numbers = temporaryNumbers(g);
  std::vector<std::string> names(numbers.size());
  for (size_t i = 0; i < names.size(); ++i)
    names[i] = numbers[i] < 0 ? g.values()[i].name : "t" + std::to_string(numbers[i]);
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
