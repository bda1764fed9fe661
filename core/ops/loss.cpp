// Loss ops: scalar results of the logits' dtype. cross_entropy averages over the
// batch; mse and bce_with_logits average over every element. Losses do not
// broadcast: a [N, 1] prediction against a [N] target is almost always a bug.
// They are Opaque for fusion: each is one kernel that also keeps what its backward
// pass needs (probabilities, differences).
#include <string>

#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

TensorType pairLossType(const std::string &op, const char *first, const char *second,
                        const OpCall &c) {
  const TensorType &a = c.inputs[0];
  const TensorType &b = c.inputs[1];
  rules::requireFloat(op, a, first);
  rules::requireFloat(op, b, second);
  if (a != b)
    throw TypeError(op + ": " + first + " and " + second + " must have the same type, got " +
                    a.str() + " and " + b.str() + " (losses do not broadcast)");
  return TensorType{a.dtype, {}};
}

} // namespace

void registerLossOps(OpRegistry &r) {
  OpDef crossEntropy{
      "cross_entropy",
      "loss",
      {"logits", "labels"},
      false,
      {},
      [](const OpCall &c) {
        return rules::crossEntropyType("cross_entropy", c.inputs[0], c.inputs[1]);
      },
      rules::crossEntropyFlops,
      FusionKind::Opaque,
      "mean over the batch of -log softmax(logits)[label]; labels are class indices"};
  crossEntropy.indexInput = OpDef::IndexInput{1, 0, -1};
  r.add(std::move(crossEntropy));
  r.add(OpDef{"mse",
              "loss",
              {"pred", "target"},
              false,
              {},
              [](const OpCall &c) { return pairLossType("mse", "pred", "target", c); },
              rules::perInputElement(3),
              FusionKind::Opaque,
              "mean over all elements of (pred - target)^2"});
  // max(x, 0) - x*t + log(1 + exp(-|x|)): about 12 FLOPs per element.
  r.add(
      OpDef{"bce_with_logits",
            "loss",
            {"logits", "target"},
            false,
            {},
            [](const OpCall &c) { return pairLossType("bce_with_logits", "logits", "target", c); },
            rules::perInputElement(12),
            FusionKind::Opaque,
            "mean over all elements of binary cross-entropy of sigmoid(logits) vs target "
            "in [0, 1], computed stably"});
  // Mixed precision: losses are computed in f32.
  for (const char *op : {"cross_entropy", "mse", "bce_with_logits"})
    r.setPrecision(op, OpPrecision::Float);
}

} // namespace nng
