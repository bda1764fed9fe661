// Gradient rules and the backward ops they emit.
//
// Most ops are differentiated by one generic rule: for each differentiable input i
// it emits `<op>_grad(dy, y, x0, x1, ..., wrt = i)`, a backward op whose type is
// that input's type and whose attributes are the forward node's plus `wrt`. Each
// backend implements `<op>_grad` with the op's backward kernel (the CPU backend with
// `<op>_bwd`, computing only the requested input's gradient). Ops whose gradient is
// plainer as a composition of forward ops (cast, add, sub, neg) say so below.
//
// The table lists, per op, which inputs have a gradient; integer inputs (labels,
// ids) and running statistics never do.
#include <set>
#include <string>

#include "core/ops/families.h"
#include "core/ops/grad.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

struct Differentiable {
  const char *op;
  std::set<size_t> inputs; // inputs with a gradient; for a variadic op, {0} means all
};

const Differentiable kGeneric[] = {
    {"relu", {0}},         {"leaky_relu", {0}},   {"sigmoid", {0}},      {"tanh", {0}},
    {"gelu", {0}},         {"exp", {0}},          {"log", {0}},          {"sqrt", {0}},
    {"abs", {0}},          {"mul", {0, 1}},       {"div", {0, 1}},       {"maximum", {0, 1}},
    {"minimum", {0, 1}},   {"pow", {0, 1}},       {"matmul", {0, 1}},    {"transpose", {0}},
    {"reshape", {0}},      {"flatten", {0}},      {"concat", {0}},       {"slice", {0}},
    {"sum", {0}},          {"mean", {0}},         {"max", {0}},          {"softmax", {0}},
    {"log_softmax", {0}},  {"cross_entropy", {0}}, {"mse", {0, 1}},
    {"bce_with_logits", {0, 1}},
    {"conv2d", {0, 1}},    {"max_pool2d", {0}},   {"avg_pool2d", {0}},   {"global_avg_pool", {0}},
    {"batch_norm", {0, 1, 2}}, {"layer_norm", {0, 1, 2}}, {"dropout", {0}}, {"embedding", {1}},
    {"fused_dense", {0, 1, 2}}, {"fused_conv2d", {0, 1, 2}}, {"softmax_cross_entropy", {0}},
};

// Ops whose backward kernels compute each element of the gradient from the same
// element of dy, y and the forward inputs of the gradient's shape (unary maps,
// broadcasting binaries: an operand of the gradient's shape is indexed like it), or a
// row at a time, reading the row whole before writing it (softmax): their `<op>_grad`
// may write the gradient over any input of its type (OpDef::mayOverwrite).
const std::set<std::string> kGradMayOverwrite = {
    "relu", "leaky_relu", "sigmoid", "tanh",    "gelu",    "exp",     "log",    "sqrt",
    "abs",  "mul",        "div",     "maximum", "minimum", "pow",     "softmax", "log_softmax"};

// `<op>_grad(dy, y, x0, ...)`: the gradient of the forward op's input `wrt`.
OpDef backwardOpFor(const OpDef &fwd) {
  OpDef b;
  b.name = fwd.name + "_grad";
  b.family = "backward";
  b.inputs = {"dy", "y"};
  b.inputs.insert(b.inputs.end(), fwd.inputs.begin(), fwd.inputs.end());
  b.variadic = fwd.variadic;
  b.attrs = fwd.attrs;
  b.attrs.push_back({"wrt", AttrType::Int, std::nullopt, "which forward input"});
  b.precision = fwd.precision; // mixed precision: the backward runs as its forward op
  const std::string name = b.name;
  const size_t fixed = fwd.inputs.size();
  const bool variadic = fwd.variadic;
  b.infer = [name](const OpCall &c) {
    int64_t wrt = c.intAttr("wrt");
    if (wrt < 0 || static_cast<size_t>(wrt) + 2 >= c.inputs.size())
      throw TypeError(name + ": wrt = " + std::to_string(wrt) + " names no forward input");
    if (c.inputs[0] != c.inputs[1])
      throw TypeError(name + ": dy " + c.inputs[0].str() + " must have y's type " +
                      c.inputs[1].str());
    return c.inputs[static_cast<size_t>(wrt) + 2];
  };
  // Backward costs about twice the forward (the usual rule of thumb); the forward
  // FLOP rule sees the forward inputs and output.
  FlopsFn fwdFlops = fwd.flops;
  b.flops = [fwdFlops, fixed, variadic](const OpCall &c, const TensorType &, int64_t batch) {
    if (!fwdFlops)
      return 0.0;
    std::vector<TensorType> ins(c.inputs.begin() + 2, c.inputs.end());
    if (!variadic && ins.size() != fixed)
      return 0.0;
    AttrMap attrs = c.attrs;
    attrs.erase("wrt");
    return fwdFlops(OpCall{ins, attrs}, c.inputs[1], batch);
  };
  b.fusion = FusionKind::Opaque;
  b.doc = "gradient of " + fwd.name + " with respect to its input `wrt`";
  return b;
}

GradFn genericGrad(const std::string &op, std::set<size_t> inputs, bool variadic) {
  return [op, inputs, variadic](GradBuilder &b, ValueId dy) {
    std::vector<ValueId> grads(b.numInputs(), kNone);
    for (size_t i = 0; i < b.numInputs(); ++i) {
      bool wanted = variadic ? true : inputs.count(i) > 0;
      if (!wanted || !b.differentiable(i))
        continue;
      std::vector<ValueId> ins{dy, b.out()};
      for (size_t k = 0; k < b.numInputs(); ++k)
        ins.push_back(b.in(k));
      AttrMap attrs = b.attrs();
      attrs["wrt"] = Attr::ofInt(static_cast<int64_t>(i));
      grads[i] = b.emit(op + "_grad", ins, attrs);
    }
    return grads;
  };
}

} // namespace

void registerBackwardOps(OpRegistry &r) {
  for (const Differentiable &d : kGeneric) {
    const OpDef *fwd = r.find(d.op);
    NNG_CHECK(fwd != nullptr, std::string("differentiable op not registered: ") + d.op);
    OpDef b = backwardOpFor(*fwd);
    if (kGradMayOverwrite.count(d.op))
      for (size_t i = 0; i < b.inputs.size(); ++i)
        b.mayOverwrite.push_back(static_cast<int>(i));
    r.add(std::move(b));
    r.setGrad(d.op, genericGrad(d.op, d.inputs, fwd->variadic));
  }

  // sum_to(x, like): sums x over the axes along which `like` was broadcast. Emitted by
  // gradients of broadcasting ops; it has no gradient itself (no second order).
  // Where like has x's type it is a copy, y[i] = x[i]; like is read for its shape only.
  OpDef sumTo{"sum_to", "backward", {"x", "like"}, false, {},
              [](const OpCall &c) {
                Shape b = rules::broadcast("sum_to", c.inputs[0].shape, c.inputs[1].shape);
                if (b != c.inputs[0].shape)
                  throw TypeError("sum_to: " + c.inputs[1].str() + " does not broadcast to " +
                                  c.inputs[0].str());
                return TensorType{c.inputs[0].dtype, c.inputs[1].shape};
              },
              [](const OpCall &c, const TensorType &, int64_t batch) {
                return rules::elements(c.inputs[0], batch);
              },
              FusionKind::Reduction, "sums x down to like's shape (the adjoint of broadcasting)"};
  sumTo.mayOverwrite = {0, 1};
  r.add(std::move(sumTo));

  // Compositions: the gradient is itself a forward op.
  r.setGrad("neg", [](GradBuilder &b, ValueId dy) {
    return std::vector<ValueId>{b.differentiable(0) ? b.emit("neg", {dy}) : kNone};
  });
  r.setGrad("add", [](GradBuilder &b, ValueId dy) {
    return std::vector<ValueId>{b.differentiable(0) ? b.sumTo(dy, b.in(0)) : kNone,
                                b.differentiable(1) ? b.sumTo(dy, b.in(1)) : kNone};
  });
  r.setGrad("sub", [](GradBuilder &b, ValueId dy) {
    return std::vector<ValueId>{
        b.differentiable(0) ? b.sumTo(dy, b.in(0)) : kNone,
        b.differentiable(1) ? b.sumTo(b.emit("neg", {dy}), b.in(1)) : kNone};
  });
  r.setGrad("cast", [](GradBuilder &b, ValueId dy) {
    if (!b.differentiable(0))
      return std::vector<ValueId>{kNone};
    AttrMap to{{"to", Attr::ofName(dtypeName(b.type(b.in(0)).dtype))}};
    return std::vector<ValueId>{b.emit("cast", {dy}, to)};
  });
  r.setGrad("constant", [](GradBuilder &, ValueId) { return std::vector<ValueId>{}; });
  // Mixed precision: sum_to is a sum (bias gradients accumulate in f32).
  r.setPrecision("sum_to", OpPrecision::Float);
}

} // namespace nng
