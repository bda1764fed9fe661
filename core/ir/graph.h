// The one IR: a Graph of typed Values produced by Nodes. Nodes are kept in a
// topological order (every input is defined before its use); the printers, passes
// and backends all walk `nodes()` in that order.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/attr.h"
#include "core/ir/type.h"

namespace nng {

using ValueId = int32_t;
using NodeId = int32_t;
constexpr int32_t kNone = -1;

enum class ValueKind {
  Input,  // fed from data at run time
  Param,  // trainable weight, created by its initializer
  Buffer, // non-trainable state (batch_norm running statistics)
  Node,   // produced by a node
};

// How a parameter or buffer is created: `he_normal`, `constant(0.1)`, `normal(0, 0.02)`.
struct Initializer {
  std::string kind;
  std::vector<Attr> args;
  std::string str() const;
  bool operator==(const Initializer &o) const { return kind == o.kind && args == o.args; }
};

struct Value {
  std::string name; // empty for temporaries (printed as t0, t1, ... in order)
  TensorType type;
  ValueKind kind = ValueKind::Node;
  NodeId producer = kNone; // for ValueKind::Node
  Initializer init;        // for Param and Buffer
  SourceLoc loc;
};

struct Node {
  std::string op;
  std::vector<ValueId> inputs;
  AttrMap attrs;
  ValueId output = kNone;
  SourceLoc loc;
  // Call sites of the blocks this node was inlined from, outermost last:
  // "in block 'residual' called at model.nn:12:9".
  std::vector<std::string> callChain;
  // What a pass wants the reader to know about this node ("stream 1", "arena
  // 0+4096, in place of t3"); the nn printer writes it as a trailing comment, so
  // it does not survive a parse.
  std::string note;
};

class Graph {
public:
  std::string name; // the model's name

  ValueId addInput(const std::string &name, const TensorType &type, const SourceLoc &loc = {});
  ValueId addParam(const std::string &name, const TensorType &type, const Initializer &init,
                   const SourceLoc &loc = {}, ValueKind kind = ValueKind::Param);
  // Appends a node producing one value of `type`; `name` may be empty (a temporary).
  // Inputs, attributes, type and call chain are taken by value: a caller that built them
  // for this node moves them in.
  ValueId addNode(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs,
                  TensorType type, const std::string &name = "", const SourceLoc &loc = {},
                  std::vector<std::string> callChain = {});

  // Makes room for `values` values and `nodes` nodes, e.g. in a pass that copies a graph
  // of known size, so appending does not reallocate and rehash as the graph grows.
  void reserve(size_t values, size_t nodes);

  void markOutput(ValueId v) { outputs_.push_back(v); }
  void setLoss(ValueId v) { loss_ = v; }

  const std::vector<Value> &values() const { return values_; }
  const std::vector<Node> &nodes() const { return nodes_; }
  const Value &value(ValueId id) const { return values_.at(static_cast<size_t>(id)); }
  Value &value(ValueId id) { return values_.at(static_cast<size_t>(id)); }
  const Node &node(NodeId id) const { return nodes_.at(static_cast<size_t>(id)); }
  Node &node(NodeId id) { return nodes_.at(static_cast<size_t>(id)); }
  const TensorType &typeOf(ValueId id) const { return value(id).type; }

  const std::vector<ValueId> &inputs() const { return inputs_; }
  const std::vector<ValueId> &params() const { return params_; } // params and buffers, in order
  const std::vector<ValueId> &outputs() const { return outputs_; }
  std::optional<ValueId> loss() const { return loss_; }

  // Named values (inputs, params, named node outputs); kNone if absent.
  ValueId find(const std::string &name) const;
  // Renames a value; the caller guarantees the new name is free.
  void rename(ValueId id, const std::string &name);

private:
  ValueId addValue(Value v);

  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_, params_, outputs_;
  std::optional<ValueId> loss_;
  std::unordered_map<std::string, ValueId> byName_;
};

// Checks the structural invariants every pass must keep: inputs defined before
// use, every node's op registered with valid attributes, each stored type equal to
// the op's inferred type, unique names, outputs and loss defined, loss a scalar.
// Returns the problems found (empty when valid).
std::vector<std::string> verify(const Graph &g);

} // namespace nng
