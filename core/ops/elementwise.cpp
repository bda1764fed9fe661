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
  // Binary ops: the constants e with e op x == x and x op e == x (see OpDef).
  std::optional<double> leftIdentity = std::nullopt;
  std::optional<double> rightIdentity = std::nullopt;
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
    {"add", 1, "a + b (broadcasting)", 0.0, 0.0},
    {"sub", 1, "a - b (broadcasting)", std::nullopt, 0.0},
    {"mul", 1, "a * b (broadcasting)", 1.0, 1.0},
    {"div", 1, "a / b (broadcasting)", std::nullopt, 1.0},
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
    OpDef def{name, "elementwise", {"x"}, false, {},
              [name](const OpCall &c) { return floatUnary(name, c); },
              rules::perOutputElement(u.flopsPerElement), FusionKind::Elementwise, u.doc};
    def.mayOverwrite = {0}; // y[i] = f(x[i])
    def.involution = name == "neg";
    def.idempotent = name == "relu" || name == "abs";
    r.add(std::move(def));
  }
  OpDef leaky{"leaky_relu", "elementwise", {"x"}, false,
              {{"alpha", AttrType::Float, Attr::ofFloat(0.01), "slope for x < 0"}},
              [](const OpCall &c) { return floatUnary("leaky_relu", c); },
              rules::perOutputElement(2), FusionKind::Elementwise, "x if x > 0 else alpha * x"};
  leaky.mayOverwrite = {0};
  r.add(std::move(leaky));

  for (const UnaryInfo &b : kBinary) {
    std::string name = b.name;
    OpDef def{name, "elementwise", {"a", "b"}, false, {},
              [name](const OpCall &c) {
                DType t = rules::sameDType(name, c.inputs[0], c.inputs[1]);
                if (t == DType::Bool)
                  throw TypeError(name + ": operands must be numeric, got bool");
                if (name == "pow")
                  rules::requireFloat(name, c.inputs[0], "base");
                return TensorType{t,
                                  rules::broadcast(name, c.inputs[0].shape, c.inputs[1].shape)};
              },
              rules::perOutputElement(b.flopsPerElement), FusionKind::Broadcast, b.doc};
    // out[i] = f(a[i], b[j]): an operand of the output's shape is read at i only.
    def.mayOverwrite = {0, 1};
    def.leftIdentity = b.leftIdentity;
    def.rightIdentity = b.rightIdentity;
    def.idempotent = name == "maximum" || name == "minimum";
    r.add(std::move(def));
  }

  OpDef cast{"cast", "elementwise", {"x"}, false,
             {{"to", AttrType::DType, std::nullopt, "target dtype"}},
             [](const OpCall &c) {
               return TensorType{*parseDType(c.nameAttr("to")), c.inputs[0].shape};
             },
             rules::perOutputElement(1), FusionKind::Elementwise,
             "converts to another dtype (rounding to nearest even)"};
  cast.identityWhenSameType = true;
  r.add(std::move(cast));

  // A scalar literal of the source (`0.5 * x`): printed as constant(value = 0.5, dtype = f32).
  OpDef constant{"constant", "elementwise", {}, false,
                 {{"value", AttrType::Float, std::nullopt, "the scalar"},
                  {"dtype", AttrType::DType, Attr::ofName("f32"), "its dtype"}},
                 [](const OpCall &c) { return TensorType{*parseDType(c.nameAttr("dtype")), {}}; },
                 rules::perOutputElement(0), FusionKind::Elementwise, "a scalar constant"};
  constant.constant = true;
  r.add(std::move(constant));
  // Mixed precision: exp, log and pow overflow or lose accuracy in half; casts and
  // constants keep the dtypes they name.
  for (const char *op : {"exp", "log", "pow", "cast", "constant"})
    r.setPrecision(op, OpPrecision::Float);
}

} // namespace nng
