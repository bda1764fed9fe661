// Reverse-mode automatic differentiation (see autodiff.h for the stages).
#include "core/passes/autodiff.h"

#include "core/ops/grad.h"
#include "core/ops/registry.h"
#include "core/passes/amp.h"
#include "core/passes/passes.h"

namespace nng {

std::string gradName(const std::string &param) { return "grad." + param; }

bool differentiate(Graph &g) {
  if (!g.loss())
    return false;
  const ValueId loss = *g.loss();
  const size_t numValues = g.values().size();
  const size_t numNodes = g.nodes().size();

  // (1) Values that depend on a trainable param (forward), and nodes on which the
  // loss depends (backward). Only nodes in both need backward code.
  std::vector<bool> fromParam(numValues, false);
  for (ValueId p : g.params())
    fromParam[p] = g.value(p).kind == ValueKind::Param;
  for (size_t n = 0; n < numNodes; ++n) {
    const Node &node = g.node(static_cast<NodeId>(n));
    for (ValueId in : node.inputs)
      if (fromParam[in])
        fromParam[node.output] = true;
  }
  std::vector<bool> toLoss(numValues, false);
  toLoss[loss] = true;
  for (size_t n = numNodes; n-- > 0;) {
    const Node &node = g.node(static_cast<NodeId>(n));
    if (toLoss[node.output])
      for (ValueId in : node.inputs)
        toLoss[in] = true;
  }

  // (2) Seed. Nodes autodiff adds on its own account point at the minimize line.
  Node lossSite;
  lossSite.loc = g.value(loss).loc;
  std::vector<ValueId> grad(numValues, kNone);
  // Under dynamic loss scaling (the amp pass ran first, f16) the seed is the scale,
  // and (4) divides it out of the parameter gradients again.
  ValueId lossScale = g.find(kLossScaleName);
  if (lossScale != kNone && g.value(lossScale).kind != ValueKind::Buffer)
    lossScale = kNone;
  if (lossScale == kNone) {
    grad[loss] = GradBuilder(g, lossSite).scalar(1.0, g.typeOf(loss).dtype);
  } else {
    grad[loss] = lossScale;
    if (g.typeOf(lossScale) != g.typeOf(loss))
      grad[loss] = GradBuilder(g, lossSite)
                       .emit("cast", {lossScale}, {{"to", Attr::ofName(dtypeName(
                                                                g.typeOf(loss).dtype))}});
  }
  ValueId inverseScale = kNone; // 1 / scale, emitted on first use

  // (3) Reverse sweep over the forward nodes (appending never moves them: we copy).
  for (size_t n = numNodes; n-- > 0;) {
    Node node = g.node(static_cast<NodeId>(n));
    if (grad[node.output] == kNone || !fromParam[node.output])
      continue;
    const OpDef *op = opRegistry().find(node.op);
    NNG_CHECK(op != nullptr, "unknown op in a verified graph: " + node.op);
    if (!op->grad)
      throw UserError(Diagnostic{node.loc, "cannot differentiate '" + node.op +
                                               "': it has no gradient rule",
                                 node.callChain});
    std::vector<bool> wanted;
    for (ValueId in : node.inputs)
      wanted.push_back(fromParam[in] && toLoss[in]);
    GradBuilder b(g, node, wanted);
    std::vector<ValueId> inGrads = op->grad(b, grad[node.output]);
    NNG_CHECK(inGrads.size() == node.inputs.size(), node.op + ": gradient rule arity");
    for (size_t i = 0; i < inGrads.size(); ++i) {
      ValueId in = node.inputs[i];
      if (inGrads[i] == kNone || !fromParam[in] || !toLoss[in])
        continue;
      NNG_CHECK(g.typeOf(inGrads[i]) == g.typeOf(in),
                node.op + ": gradient type " + g.typeOf(inGrads[i]).str() + " != input type " +
                    g.typeOf(in).str());
      grad[in] = grad[in] == kNone ? inGrads[i] : b.emit("add", {grad[in], inGrads[i]});
    }
  }

  // (4) Parameter gradients become named outputs. A param used directly as the
  // loss, or whose gradient is another param's, gets an explicit copy so the name is
  // its own.
  for (ValueId p : g.params()) {
    if (g.value(p).kind != ValueKind::Param || grad[p] == kNone)
      continue;
    ValueId gv = grad[p];
    if (lossScale != kNone) {
      GradBuilder b(g, lossSite);
      if (inverseScale == kNone)
        inverseScale = b.emit("div", {b.scalar(1.0, DType::F32), lossScale});
      ValueId inv = inverseScale;
      if (g.typeOf(gv).dtype != DType::F32)
        inv = b.emit("cast", {inv}, {{"to", Attr::ofName(dtypeName(g.typeOf(gv).dtype))}});
      gv = b.emit("mul", {gv, inv});
    }
    if (!g.value(gv).name.empty() || g.value(gv).kind != ValueKind::Node) {
      GradBuilder b(g, lossSite);
      gv = b.emit("mul", {gv, b.scalar(1.0, g.typeOf(gv).dtype)});
    }
    g.rename(gv, gradName(g.value(p).name));
    g.markOutput(gv);
  }
  return true;
}

bool hasGradients(const Graph &g) {
  for (ValueId p : g.params())
    if (g.value(p).kind == ValueKind::Param && g.find(gradName(g.value(p).name)) != kNone)
      return true;
  return false;
}

PassInfo gradPass() {
  return PassInfo{"grad", "reverse-mode autodiff: appends the gradient of the loss for every param",
                  [](Graph &g, PassContext &ctx) {
                    if (!g.loss()) {
                      ctx.explain("no gradients: the model has no 'minimize' statement");
                      return false;
                    }
                    if (hasGradients(g)) {
                      ctx.explain("no change: the graph already has its gradients");
                      return false;
                    }
                    const size_t before = g.nodes().size();
                    differentiate(g);
                    ctx.explain(g.value(*g.loss()).loc,
                                "appended " + std::to_string(g.nodes().size() - before) +
                                    " backward nodes");
                    return true;
                  }};
}

} // namespace nng
