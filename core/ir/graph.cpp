// Graph construction and name lookup.
#include "core/ir/graph.h"

#include <sstream>

namespace nng {

std::string Initializer::str() const {
  if (args.empty())
    return kind;
  std::ostringstream os;
  os << kind << "(";
  for (size_t i = 0; i < args.size(); ++i)
    os << (i ? ", " : "") << args[i].str();
  os << ")";
  return os.str();
}

ValueId Graph::addValue(Value v) {
  auto id = static_cast<ValueId>(values_.size());
  if (!v.name.empty()) {
    bool fresh = byName_.emplace(v.name, id).second;
    NNG_CHECK(fresh, "duplicate value name " + v.name);
  }
  values_.push_back(std::move(v));
  return id;
}

ValueId Graph::addInput(const std::string &name, const TensorType &type, const SourceLoc &loc) {
  Value v;
  v.name = name;
  v.type = type;
  v.kind = ValueKind::Input;
  v.loc = loc;
  ValueId id = addValue(std::move(v));
  inputs_.push_back(id);
  return id;
}

ValueId Graph::addParam(const std::string &name, const TensorType &type, const Initializer &init,
                        const SourceLoc &loc, ValueKind kind) {
  NNG_CHECK(kind == ValueKind::Param || kind == ValueKind::Buffer, "addParam kind");
  Value v;
  v.name = name;
  v.type = type;
  v.kind = kind;
  v.init = init;
  v.loc = loc;
  ValueId id = addValue(std::move(v));
  params_.push_back(id);
  return id;
}

ValueId Graph::addNode(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs,
                       TensorType type, const std::string &name, const SourceLoc &loc,
                       std::vector<std::string> callChain) {
  for (ValueId in : inputs)
    NNG_CHECK(in >= 0 && static_cast<size_t>(in) < values_.size(), "node input out of range");
  Value v;
  v.name = name;
  v.type = std::move(type);
  v.kind = ValueKind::Node;
  v.producer = static_cast<NodeId>(nodes_.size());
  v.loc = loc;
  ValueId id = addValue(std::move(v));
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  n.output = id;
  n.loc = loc;
  n.callChain = std::move(callChain);
  nodes_.push_back(std::move(n));
  return id;
}

void Graph::reserve(size_t values, size_t nodes) {
  values_.reserve(values);
  nodes_.reserve(nodes);
  byName_.reserve(values);
}

ValueId Graph::find(const std::string &name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? kNone : it->second;
}

void Graph::rename(ValueId id, const std::string &name) {
  Value &v = value(id);
  if (!v.name.empty())
    byName_.erase(v.name);
  v.name = name;
  if (!name.empty()) {
    bool fresh = byName_.emplace(name, id).second;
    NNG_CHECK(fresh, "rename to a taken name " + name);
  }
}

} // namespace nng
