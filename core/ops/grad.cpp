// GradBuilder: emitting backward nodes on behalf of gradient rules.
#include "core/ops/grad.h"

namespace nng {

const Attr &GradBuilder::attr(const std::string &name) const {
  auto it = fwd_.attrs.find(name);
  NNG_CHECK(it != fwd_.attrs.end(), fwd_.op + ": gradient rule reads missing attribute " + name);
  return it->second;
}

ValueId GradBuilder::emit(const std::string &op, std::vector<ValueId> inputs, AttrMap attrs) {
  const OpDef *def = opRegistry().find(op);
  NNG_CHECK(def != nullptr, "gradient rule emits unknown op " + op);
  std::vector<TensorType> types;
  for (ValueId v : inputs)
    types.push_back(g_.typeOf(v));
  TensorType t;
  try {
    t = inferType(*def, types, attrs);
  } catch (const TypeError &e) {
    // A gradient rule built an ill-typed node: a bug in nng, not in the model.
    NNG_CHECK(false, "gradient of " + fwd_.op + " emitted an ill-typed node: " + e.what());
  }
  return g_.addNode(op, std::move(inputs), std::move(attrs), t, "", fwd_.loc, fwd_.callChain);
}

ValueId GradBuilder::scalar(double value, DType dtype) {
  return emit("constant", {}, {{"value", Attr::ofFloat(value)}, {"dtype", Attr::ofName(dtypeName(dtype))}});
}

ValueId GradBuilder::sumTo(ValueId v, ValueId like) {
  if (type(v).shape == type(like).shape)
    return v;
  return emit("sum_to", {v, like});
}

} // namespace nng
