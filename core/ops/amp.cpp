// Dynamic loss scaling for mixed-precision training (the amp pass, f16), as ops of the
// training graph with PyTorch GradScaler's semantics: `all_finite` checks the
// unscaled gradients, the optimizer updates skip their step when it says false
// (their optional `finite` input), and `loss_scale_update` halves the scale on an
// overflow or doubles it after `interval` finite steps in a row.
#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

void registerAmpOps(OpRegistry &r) {
  OpDef allFinite{"all_finite",
                  "amp",
                  {"x"},
                  true,
                  {},
                  [](const OpCall &c) {
                    for (size_t i = 0; i < c.inputs.size(); ++i)
                      rules::requireFloat("all_finite", c.inputs[i], "input " + std::to_string(i));
                    return TensorType{DType::Bool, {}};
                  },
                  [](const OpCall &c, const TensorType &, int64_t batch) {
                    double n = 0;
                    for (const TensorType &t : c.inputs)
                      n += rules::elements(t, batch);
                    return n;
                  },
                  FusionKind::Reduction,
                  "true when no element of any input is inf or NaN"};
  r.add(std::move(allFinite));

  OpDef update{
      "loss_scale_update",
      "amp",
      {"scale", "good_steps", "finite"},
      false,
      {{"growth", AttrType::Float, Attr::ofFloat(2.0), "factor after interval finite steps"},
       {"backoff", AttrType::Float, Attr::ofFloat(0.5), "factor on inf or NaN"},
       {"interval", AttrType::Int, Attr::ofInt(2000), "finite steps before growing"}},
      [](const OpCall &c) {
        const TensorType scalar{DType::F32, {}};
        if (c.inputs[0] != scalar || c.inputs[1] != scalar)
          throw TypeError("loss_scale_update: scale and good_steps must be f32[], got " +
                          c.inputs[0].str() + " and " + c.inputs[1].str());
        if (c.inputs[2] != TensorType{DType::Bool, {}})
          throw TypeError("loss_scale_update: finite must be bool[], got " + c.inputs[2].str());
        if (c.intAttr("interval") < 1)
          throw TypeError("loss_scale_update: interval must be at least 1");
        return scalar;
      },
      rules::perOutputElement(2),
      FusionKind::Opaque,
      "updates the loss scale in place: x backoff and good_steps = 0 when not "
      "finite, else good_steps + 1 and x growth (good_steps = 0) at interval"};
  update.inplace = 0;
  update.stateful = true; // good_steps changes in place too
  r.add(std::move(update));

  for (const char *op : {"all_finite", "loss_scale_update"})
    r.setPrecision(op, OpPrecision::Float);
}

} // namespace nng
