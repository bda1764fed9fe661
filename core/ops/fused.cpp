// Fused ops: what the fuse pass produces, also writable by hand. Each has the same
// shape rule as the chain of primitive ops it replaces, so fusing never changes a
// type: fused_dense is matmul + bias add + activation, softmax_cross_entropy is
// cross_entropy in one kernel that keeps the probabilities for the backward pass,
// and fused_elementwise is a chain of elementwise ops over broadcast inputs.
#include <cctype>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

const std::vector<std::string> kActivations = {"none", "relu", "gelu", "sigmoid", "tanh"};

void checkActivation(const std::string &op, const std::string &act) {
  for (const std::string &a : kActivations)
    if (a == act)
      return;
  std::string msg = op + ": act must be one of none, relu, gelu, sigmoid, tanh; got '" + act + "'";
  std::string near = closestMatch(act, kActivations);
  if (!near.empty())
    msg += "; did you mean '" + near + "'?";
  throw TypeError(msg);
}

// x [.., K] @ w [K, M] + b [M], then act.
TensorType fusedDenseType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  const TensorType &w = c.inputs[1];
  const TensorType &b = c.inputs[2];
  rules::requireRank("fused_dense", w, 2, "weight w ([K, M])");
  TensorType out = rules::matmulType("fused_dense", x, w);
  TensorType wantBias{w.dtype, {w.shape[1]}};
  if (b != wantBias)
    throw TypeError("fused_dense: bias b must be " + wantBias.str() +
                    " (one value per output column of " + w.str() + "), got " + b.str());
  checkActivation("fused_dense", c.nameAttr("act"));
  return out;
}

// The inputs broadcast together, as the chain's binary ops would; one float dtype.
TensorType fusedElementwiseType(const OpCall &c) {
  const TensorType &x0 = c.inputs[0];
  rules::requireFloat("fused_elementwise", x0, "input 0");
  Shape shape = x0.shape;
  for (size_t i = 1; i < c.inputs.size(); ++i) {
    const TensorType &xi = c.inputs[i];
    if (xi.dtype != x0.dtype)
      throw TypeError("fused_elementwise: dtypes differ: input " + std::to_string(i) + " " +
                      xi.str() + ", input 0 " + x0.str() + " (insert a cast)");
    shape = rules::broadcast("fused_elementwise", shape, xi.shape);
  }
  if (c.nameAttr("chain").empty())
    throw TypeError("fused_elementwise: chain must describe the computation, got \"\"");
  return TensorType{x0.dtype, shape};
}

// Until the fuse pass fixes the chain syntax, price it by the registered
// elementwise op names it mentions (each at its own per-element cost), at least 1.
double chainCostPerElement(const std::string &chain) {
  double cost = 0;
  size_t i = 0;
  while (i < chain.size()) {
    if (!std::isalpha(static_cast<unsigned char>(chain[i])) && chain[i] != '_') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < chain.size() &&
           (std::isalnum(static_cast<unsigned char>(chain[j])) || chain[j] == '_'))
      ++j;
    const OpDef *op = opRegistry().find(chain.substr(i, j - i));
    if (op && (op->fusion == FusionKind::Elementwise || op->fusion == FusionKind::Broadcast) &&
        !op->inputs.empty())
      cost += rules::elementwiseCost(op->name);
    i = j;
  }
  return cost > 0 ? cost : 1;
}

} // namespace

void registerFusedOps(OpRegistry &r) {
  r.add(OpDef{"fused_dense",
              "fused",
              {"x", "w", "b"},
              false,
              {{"act", AttrType::Name, Attr::ofName("none"),
                "activation applied last: none, relu, gelu, sigmoid or tanh"}},
              fusedDenseType,
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                const std::string &act = c.nameAttr("act");
                double perOutput = 2 * rules::dimValue(c.inputs[1].shape[0], batch) + 1 +
                                   (act == "none" ? 0 : rules::elementwiseCost(act));
                return perOutput * rules::elements(out, batch);
              },
              FusionKind::MatmulLike,
              "act(x [.., K] @ w [K, M] + b [M]) -> [.., M]"});
  r.add(OpDef{"softmax_cross_entropy",
              "fused",
              {"logits", "labels"},
              false,
              {},
              [](const OpCall &c) {
                return rules::crossEntropyType("softmax_cross_entropy", c.inputs[0], c.inputs[1]);
              },
              rules::crossEntropyFlops,
              FusionKind::Opaque,
              "cross_entropy in one kernel that keeps softmax(logits) for the backward pass"});
  r.add(OpDef{"fused_elementwise",
              "fused",
              {"x"},
              true,
              {{"chain", AttrType::String, std::nullopt,
                "the elementwise computation over the inputs, as text (syntax set by the "
                "fuse pass)"}},
              fusedElementwiseType,
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                return chainCostPerElement(c.nameAttr("chain")) * rules::elements(out, batch);
              },
              FusionKind::Broadcast,
              "a chain of elementwise ops over inputs broadcast together, in one kernel; its "
              "meaning is the chain text"});
}

} // namespace nng
