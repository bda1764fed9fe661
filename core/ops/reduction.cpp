// Reduction ops: sum, mean and max over a set of axes, and softmax / log_softmax
// along one axis. They are Reduction-kind for fusion: elementwise producers may
// fuse into them, and a reduction ends a fused group.
#include <string>
#include <vector>

#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

// axis = [] reduces every axis; keepdims leaves reduced axes as 1.
TensorType reduceType(const std::string &op, const OpCall &c) {
  const TensorType &x = c.inputs[0];
  if (x.dtype == DType::Bool)
    throw TypeError(op + ": input must be numeric, got " + x.str());
  if (op == "mean")
    rules::requireFloat(op, x, "input");
  std::vector<bool> reduced(x.rank(), false);
  std::vector<int64_t> axes = c.intsAttr("axis");
  if (axes.empty())
    reduced.assign(x.rank(), true);
  for (int64_t a : axes) {
    int64_t n = rules::normalizeAxis(op, a, x.rank());
    if (reduced[n])
      throw TypeError(op + ": axis " + std::to_string(n) + " appears twice in " +
                      c.attrs.at("axis").str() + " (input " + x.str() + ")");
    reduced[n] = true;
  }
  bool keep = c.boolAttr("keepdims");
  Shape out;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (!reduced[i])
      out.push_back(x.shape[i]);
    else if (keep)
      out.push_back(Dim(1));
  }
  return TensorType{x.dtype, out};
}

TensorType softmaxType(const std::string &op, const OpCall &c) {
  const TensorType &x = c.inputs[0];
  rules::requireFloat(op, x, "input");
  rules::normalizeAxis(op, c.intAttr("axis"), x.rank());
  return x;
}

const std::vector<AttrSpec> kReduceAttrs = {
    {"axis", AttrType::IntList, Attr::ofList({}), "axes to reduce; [] reduces all of them"},
    {"keepdims", AttrType::Bool, Attr::ofBool(false), "keep reduced axes as extent 1"},
};

} // namespace

void registerReductionOps(OpRegistry &r) {
  struct Reduce {
    const char *name;
    const char *doc;
  };
  for (Reduce red : {Reduce{"sum", "sum over axis"}, Reduce{"mean", "mean over axis (float)"},
                     Reduce{"max", "maximum over axis"}}) {
    std::string name = red.name;
    r.add(OpDef{name,
                "reduction",
                {"x"},
                false,
                kReduceAttrs,
                [name](const OpCall &c) { return reduceType(name, c); },
                rules::perInputElement(1),
                FusionKind::Reduction,
                red.doc});
  }
  // About 8 FLOPs per element: max, subtract, exp (4), sum, divide or log. Each row
  // of x is read whole before its row of the output is written, so out may be x.
  OpDef softmax{"softmax",
                "reduction",
                {"x"},
                false,
                {{"axis", AttrType::Int, Attr::ofInt(-1), "the axis that sums to 1"}},
                [](const OpCall &c) { return softmaxType("softmax", c); },
                rules::perInputElement(8),
                FusionKind::Reduction,
                "exp(x - max) / sum(exp(x - max)) along axis"};
  softmax.mayOverwrite = {0};
  r.add(std::move(softmax));
  OpDef logSoftmax{"log_softmax",
                   "reduction",
                   {"x"},
                   false,
                   {{"axis", AttrType::Int, Attr::ofInt(-1), "the normalized axis"}},
                   [](const OpCall &c) { return softmaxType("log_softmax", c); },
                   rules::perInputElement(8),
                   FusionKind::Reduction,
                   "x - max - log(sum(exp(x - max))) along axis"};
  logSoftmax.mayOverwrite = {0};
  r.add(std::move(logSoftmax));
  // Mixed precision: sums, means and softmax accumulate in f32 (max is exact in any
  // type).
  for (const char *op : {"sum", "mean", "softmax", "log_softmax"})
    r.setPrecision(op, OpPrecision::Float);
}

} // namespace nng
