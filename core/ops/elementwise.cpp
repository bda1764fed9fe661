// Elementwise ops: unary activations and math, binary arithmetic with numpy
// broadcasting, and the cast and constant ops.
#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

struct UnaryInfo {
  const char *name;
  double flopsPerElement; // rough cost, counting a transcendental as several flops
  const char *doc;
};

const UnaryInfo kUnary[] = {
    {"neg", 1, "-x"},
    {"relu", 1, "max(x, 0)"},
    {"sigmoid", 4, "1 / (1 + exp(-x))"},
    {"tanh", 4, "hyperbolic tangent"},
    {"gelu", 8, "x * Phi(x), tanh approximation"},
    {"exp", 4, "e^x"},
    {"log", 4, "natural logarithm"},
    {"sqrt", 2, "square root"},
    {"abs", 1, "|x|"},
};

const UnaryInfo kBinary[] = {
    {"add", 1, "a + b (broadcasting)"},
    {"sub", 1, "a - b (broadcasting)"},
    {"mul", 1, "a * b (broadcasting)"},
    {"div", 1, "a / b (broadcasting)"},
    {"maximum", 1, "elementwise max (broadcasting)"},
    {"minimum", 1, "elementwise min (broadcasting)"},
    {"pow", 4, "a ^ b (broadcasting)"},
};

TensorType floatUnary(const std::string &op, const OpCall &c) {
  // neg and abs also make sense on integers; the rest are float-only.
  if (op != "neg" && op != "abs")
    rules::requireFloat(op, c.inputs[0], "input");
  else if (c.inputs[0].dtype == DType::Bool)
    throw TypeError(op + ": input must be numeric, got " + c.inputs[0].str());
  return c.inputs[0];
}

} // namespace

void registerElementwiseOps(OpRegistry &r) {
  for (const UnaryInfo &u : kUnary) {
    std::string name = u.name;
    r.add(OpDef{name, "elementwise", {"x"}, false, {},
                [name](const OpCall &c) { return floatUnary(name, c); },
                rules::perOutputElement(u.flopsPerElement), FusionKind::Elementwise, u.doc});
  }
  r.add(OpDef{"leaky_relu", "elementwise", {"x"}, false,
              {{"alpha", AttrType::Float, Attr::ofFloat(0.01), "slope for x < 0"}},
              [](const OpCall &c) { return floatUnary("leaky_relu", c); },
              rules::perOutputElement(2), FusionKind::Elementwise, "x if x > 0 else alpha * x"});

  for (const UnaryInfo &b : kBinary) {
    std::string name = b.name;
    r.add(OpDef{name, "elementwise", {"a", "b"}, false, {},
                [name](const OpCall &c) {
                  DType t = rules::sameDType(name, c.inputs[0], c.inputs[1]);
                  if (t == DType::Bool)
                    throw TypeError(name + ": operands must be numeric, got bool");
                  if (name == "pow")
                    rules::requireFloat(name, c.inputs[0], "base");
                  return TensorType{t, rules::broadcast(name, c.inputs[0].shape,
                                                        c.inputs[1].shape)};
                },
                rules::perOutputElement(b.flopsPerElement), FusionKind::Broadcast, b.doc});
  }

  r.add(OpDef{"cast", "elementwise", {"x"}, false,
              {{"to", AttrType::DType, std::nullopt, "target dtype"}},
              [](const OpCall &c) {
                return TensorType{*parseDType(c.nameAttr("to")), c.inputs[0].shape};
              },
              rules::perOutputElement(1), FusionKind::Elementwise,
              "converts to another dtype (rounding to nearest even)"});

  // A scalar literal of the source (`0.5 * x`): printed as constant(value = 0.5, dtype = f32).
  r.add(OpDef{"constant", "elementwise", {}, false,
              {{"value", AttrType::Float, std::nullopt, "the scalar"},
               {"dtype", AttrType::DType, Attr::ofName("f32"), "its dtype"}},
              [](const OpCall &c) { return TensorType{*parseDType(c.nameAttr("dtype")), {}}; },
              rules::perOutputElement(0), FusionKind::Elementwise, "a scalar constant"});
}

} // namespace nng
