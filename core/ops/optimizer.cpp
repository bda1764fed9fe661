// Optimizer updates as ops, so a training step is one graph: forward, backward, and
// one update node per parameter. Each updates its parameter (input 0) and its state
// buffers in place, with PyTorch's semantics; the learning rate and the 1-based step
// number are f64 scalar inputs fed every step. Under loss scaling (mixed precision) a
// last input `finite` (bool[], from all_finite) false skips the step: param and state
// stay as they were.
#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

// param, grad and every state buffer share one float type; lr and step are f64[]; the
// optional last input `finite` (loss scaling) is bool[].
TensorType updateType(const std::string &op, const OpCall &c, size_t tensors) {
  const TensorType &p = c.inputs[0];
  rules::requireFloat(op, p, "param");
  for (size_t i = 1; i < tensors; ++i)
    if (c.inputs[i] != p)
      throw TypeError(op + ": input " + std::to_string(i) + " is " + c.inputs[i].str() +
                      ", the param is " + p.str());
  for (size_t i = tensors; i < tensors + 2; ++i)
    if (c.inputs[i] != TensorType{DType::F64, {}})
      throw TypeError(op + ": lr and step must be f64[], got " + c.inputs[i].str());
  if (c.inputs.size() > tensors + 2 && c.inputs.back() != TensorType{DType::Bool, {}})
    throw TypeError(op + ": finite must be bool[], got " + c.inputs.back().str());
  return p;
}

} // namespace

void registerOptimizerOps(OpRegistry &r) {
  OpDef sgd{"sgd_update", "optimizer", {"param", "grad", "momentum_buf", "lr", "step", "finite"},
            false,
            {{"momentum", AttrType::Float, Attr::ofFloat(0.0), "momentum factor"},
             {"nesterov", AttrType::Bool, Attr::ofBool(false), "Nesterov momentum"},
             {"weight_decay", AttrType::Float, Attr::ofFloat(0.0), "L2 penalty"}},
            [](const OpCall &c) { return updateType("sgd_update", c, 3); },
            rules::perOutputElement(4), FusionKind::Opaque,
            "SGD step on param in place (torch.optim.SGD)"};
  sgd.inplace = 0;
  sgd.optionalInputs = 1;
  r.add(sgd);
  OpDef adam{"adam_update",
             "optimizer",
             {"param", "grad", "exp_avg", "exp_avg_sq", "lr", "step", "finite"},
             false,
             {{"beta1", AttrType::Float, Attr::ofFloat(0.9), "first moment decay"},
              {"beta2", AttrType::Float, Attr::ofFloat(0.999), "second moment decay"},
              {"eps", AttrType::Float, Attr::ofFloat(1e-8), "denominator term"},
              {"weight_decay", AttrType::Float, Attr::ofFloat(0.0), "weight decay"},
              {"decoupled", AttrType::Bool, Attr::ofBool(false), "AdamW's decoupled decay"}},
             [](const OpCall &c) { return updateType("adam_update", c, 4); },
             rules::perOutputElement(10), FusionKind::Opaque,
             "Adam (or AdamW, decoupled = true) step on param in place"};
  adam.inplace = 0;
  adam.optionalInputs = 1;
  r.add(adam);
  for (const char *op : {"sgd_update", "adam_update"})
    r.setPrecision(op, OpPrecision::Float);
}

} // namespace nng
