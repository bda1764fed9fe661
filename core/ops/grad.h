// GradBuilder: what an op's gradient rule sees. It wraps the graph being
// extended by autodiff and the forward node being differentiated, and emits
// backward nodes whose types come from the op registry.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ops/registry.h"

namespace nng {

class GradBuilder {
public:
  // `wanted[i]`: whether input i's gradient is used (it lies on a path from a param);
  // rules emit nothing for the others. Empty: every input is wanted.
  GradBuilder(Graph &g, Node forward, std::vector<bool> wanted = {})
      : g_(g), fwd_(std::move(forward)), wanted_(std::move(wanted)) {}

  // The forward node's i-th input, its output, and its attributes.
  ValueId in(size_t i) const { return fwd_.inputs.at(i); }
  size_t numInputs() const { return fwd_.inputs.size(); }
  ValueId out() const { return fwd_.output; }
  const AttrMap &attrs() const { return fwd_.attrs; }
  const Attr &attr(const std::string &name) const;
  const TensorType &type(ValueId v) const { return g_.typeOf(v); }

  // Appends `op(inputs, attrs)`; the type is inferred, defaults are filled. The
  // node inherits the forward node's source location so errors and --explain
  // point at the line that caused it.
  ValueId emit(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs = {});

  // Common shapes of gradient code.
  ValueId scalar(double value, DType dtype); // constant(value, dtype)
  // Sums `v` over the axes it was broadcast along so it has `like`'s shape.
  ValueId sumTo(ValueId v, ValueId like);
  // Whether input i needs a gradient: it is wanted and a float tensor (integer
  // inputs, labels and ids, have none).
  bool differentiable(size_t input) const {
    return (wanted_.empty() || wanted_.at(input)) && isFloat(type(in(input)).dtype);
  }

private:
  Graph &g_;
  Node fwd_;
  std::vector<bool> wanted_;
};

} // namespace nng
