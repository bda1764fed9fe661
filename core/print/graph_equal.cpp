// Structural comparison in print order: model name, inputs, params and buffers, nodes,
// outputs, loss; the first difference found is the one reported.
#include "core/print/graph_equal.h"

#include "core/print/nn_printer.h"

namespace nng {

namespace {

const char *kindWord(ValueKind k) {
  switch (k) {
  case ValueKind::Input: return "input";
  case ValueKind::Param: return "param";
  case ValueKind::Buffer: return "buffer";
  case ValueKind::Node: return "node";
  }
  return "?";
}

std::string quoted(const std::string &s) { return "'" + s + "'"; }

// Compares two attribute maps; returns the first difference or "".
std::string attrDiff(const AttrMap &a, const AttrMap &b) {
  for (const auto &[k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      return "attribute " + k + " only in the first graph";
    if (v != it->second)
      return "attribute " + k + ": " + v.str() + " (" + attrKindName(v.kind) + ") vs " +
             it->second.str() + " (" + attrKindName(it->second.kind) + ")";
  }
  for (const auto &entry : b)
    if (!a.count(entry.first))
      return "attribute " + entry.first + " only in the second graph";
  return "";
}

class Comparer {
public:
  Comparer(const Graph &a, const Graph &b)
      : a_(a), b_(b), namesA_(printedNames(a)), namesB_(printedNames(b)) {}

  // The first difference, or "" when the graphs are the same.
  std::string diff() const {
    if (printedModelName(a_) != printedModelName(b_))
      return "model name " + quoted(printedModelName(a_)) + " vs " +
             quoted(printedModelName(b_));
    if (std::string d = listDiff("inputs", a_.inputs(), b_.inputs()); !d.empty())
      return d;
    if (std::string d = listDiff("params and buffers", a_.params(), b_.params()); !d.empty())
      return d;
    if (a_.nodes().size() != b_.nodes().size())
      return "node count " + std::to_string(a_.nodes().size()) + " vs " +
             std::to_string(b_.nodes().size());
    for (size_t i = 0; i < a_.nodes().size(); ++i)
      if (std::string d = nodeDiff(a_.nodes()[i], b_.nodes()[i]); !d.empty())
        return "node " + std::to_string(i) + " (" + nameA(a_.nodes()[i].output) + " = " +
               a_.nodes()[i].op + "): " + d;
    if (a_.outputs().size() != b_.outputs().size())
      return "output count " + std::to_string(a_.outputs().size()) + " vs " +
             std::to_string(b_.outputs().size());
    for (size_t i = 0; i < a_.outputs().size(); ++i)
      if (nameA(a_.outputs()[i]) != nameB(b_.outputs()[i]))
        return "output " + std::to_string(i) + ": " + quoted(nameA(a_.outputs()[i])) + " vs " +
               quoted(nameB(b_.outputs()[i]));
    if (a_.loss().has_value() != b_.loss().has_value())
      return std::string("loss only in the ") + (a_.loss() ? "first" : "second") + " graph";
    if (a_.loss() && nameA(*a_.loss()) != nameB(*b_.loss()))
      return "loss " + quoted(nameA(*a_.loss())) + " vs " + quoted(nameB(*b_.loss()));
    return "";
  }

private:
  const std::string &nameA(ValueId v) const { return namesA_.at(static_cast<size_t>(v)); }
  const std::string &nameB(ValueId v) const { return namesB_.at(static_cast<size_t>(v)); }

  // Inputs or params: same count, then per entry kind, name, type, initializer.
  std::string listDiff(const std::string &what, const std::vector<ValueId> &la,
                       const std::vector<ValueId> &lb) const {
    if (la.size() != lb.size())
      return what + ": count " + std::to_string(la.size()) + " vs " + std::to_string(lb.size());
    for (size_t i = 0; i < la.size(); ++i) {
      const Value &va = a_.value(la[i]), &vb = b_.value(lb[i]);
      std::string where = what + " " + std::to_string(i) + " (" + nameA(la[i]) + "): ";
      if (nameA(la[i]) != nameB(lb[i]))
        return where + "name " + quoted(nameA(la[i])) + " vs " + quoted(nameB(lb[i]));
      if (va.kind != vb.kind)
        return where + "kind " + kindWord(va.kind) + " vs " + kindWord(vb.kind);
      if (va.type != vb.type)
        return where + "type " + va.type.str() + " vs " + vb.type.str();
      if (!(va.init == vb.init))
        return where + "initializer " + va.init.str() + " vs " + vb.init.str();
    }
    return "";
  }

  std::string nodeDiff(const Node &na, const Node &nb) const {
    if (na.op != nb.op)
      return "op " + na.op + " vs " + nb.op;
    if (nameA(na.output) != nameB(nb.output))
      return "output name " + quoted(nameA(na.output)) + " vs " + quoted(nameB(nb.output));
    if (a_.typeOf(na.output) != b_.typeOf(nb.output))
      return "type " + a_.typeOf(na.output).str() + " vs " + b_.typeOf(nb.output).str();
    if (na.inputs.size() != nb.inputs.size())
      return "input count " + std::to_string(na.inputs.size()) + " vs " +
             std::to_string(nb.inputs.size());
    for (size_t i = 0; i < na.inputs.size(); ++i)
      if (nameA(na.inputs[i]) != nameB(nb.inputs[i]))
        return "input " + std::to_string(i) + " " + quoted(nameA(na.inputs[i])) + " vs " +
               quoted(nameB(nb.inputs[i]));
    return attrDiff(na.attrs, nb.attrs);
  }

  const Graph &a_, &b_;
  std::vector<std::string> namesA_, namesB_;
};

} // namespace

bool sameGraph(const Graph &a, const Graph &b, std::string *why) {
  std::string d = Comparer(a, b).diff();
  if (why)
    *why = d;
  return d.empty();
}

} // namespace nng
