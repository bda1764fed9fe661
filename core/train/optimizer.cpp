// Optimizer updates as graph nodes (see optimizer.h).
#include "core/train/optimizer.h"

#include <cmath>

#include "core/ops/registry.h"
#include "core/passes/amp.h"
#include "core/passes/autodiff.h"

namespace nng {

void appendOptimizerUpdate(Graph &g, const OptimizerConfig &opt) {
  const TensorType scalar{DType::F64, {}};
  const Initializer zeros{"zeros", {}};
  const ValueId lr = g.addParam(kLearningRateName, scalar, zeros, {}, ValueKind::Buffer);
  const ValueId step = g.addParam(kStepName, scalar, zeros, {}, ValueKind::Buffer);
  const bool sgd = opt.type == OptimizerType::Sgd;
  AttrMap attrs;
  if (sgd) {
    attrs = {{"momentum", Attr::ofFloat(opt.momentum)},
             {"nesterov", Attr::ofBool(opt.nesterov)},
             {"weight_decay", Attr::ofFloat(opt.weightDecay)}};
  } else {
    attrs = {{"beta1", Attr::ofFloat(opt.betas[0])},
             {"beta2", Attr::ofFloat(opt.betas[1])},
             {"eps", Attr::ofFloat(opt.eps)},
             {"weight_decay", Attr::ofFloat(opt.weightDecay)},
             {"decoupled", Attr::ofBool(opt.type == OptimizerType::AdamW)}};
  }
  const std::string op = sgd ? "sgd_update" : "adam_update";
  const OpDef *def = opRegistry().find(op);
  std::vector<ValueId> params = g.params(); // copied: the loop adds buffers
  auto gradOf = [&g](ValueId p) {
    const Value &pv = g.value(p);
    return pv.kind == ValueKind::Param ? g.find(gradName(pv.name)) : kNone;
  };
  // Dynamic loss scaling (the amp pass, f16): the updates run only when every
  // gradient is finite, and the scale follows (PyTorch GradScaler).
  const ValueId lossScale = g.find(kLossScaleName), goodSteps = g.find(kGoodStepsName);
  ValueId finite = kNone;
  if (lossScale != kNone && goodSteps != kNone) {
    std::vector<ValueId> grads;
    for (ValueId p : params)
      if (gradOf(p) != kNone)
        grads.push_back(gradOf(p));
    if (!grads.empty()) {
      std::vector<TensorType> types;
      for (ValueId v : grads)
        types.push_back(g.typeOf(v));
      AttrMap none;
      TensorType t = inferType(*opRegistry().find("all_finite"), types, none);
      finite = g.addNode("all_finite", grads, none, t, "amp.finite");
    }
  }
  for (ValueId p : params) {
    const Value pv = g.value(p);
    ValueId grad = gradOf(p);
    if (grad == kNone)
      continue; // a buffer, or a param that does not reach the loss
    const std::string prefix = "optim." + pv.name;
    std::vector<ValueId> ins{p, grad};
    for (const char *state : sgd ? std::vector<const char *>{"momentum"}
                                 : std::vector<const char *>{"m", "v"})
      ins.push_back(g.addParam(prefix + "." + state, pv.type, zeros, pv.loc, ValueKind::Buffer));
    ins.push_back(lr);
    ins.push_back(step);
    if (finite != kNone)
      ins.push_back(finite);
    std::vector<TensorType> types;
    for (ValueId v : ins)
      types.push_back(g.typeOf(v));
    AttrMap a = attrs;
    TensorType t = inferType(*def, types, a);
    g.markOutput(g.addNode(op, ins, a, t, prefix + ".updated", pv.loc));
  }
  if (finite != kNone) {
    // After the updates: nothing this step reads the scale later.
    AttrMap a{{"growth", Attr::ofFloat(kLossScaleGrowth)},
              {"backoff", Attr::ofFloat(kLossScaleBackoff)},
              {"interval", Attr::ofInt(kLossScaleInterval)}};
    std::vector<ValueId> ins{lossScale, goodSteps, finite};
    std::vector<TensorType> types;
    for (ValueId v : ins)
      types.push_back(g.typeOf(v));
    TensorType t = inferType(*opRegistry().find("loss_scale_update"), types, a);
    g.markOutput(g.addNode("loss_scale_update", ins, a, t, "amp.loss_scale.updated"));
  }
}

Optimizer::Optimizer(Session &session, const TrainConfig &cfg, int64_t totalSteps,
                     size_t firstUpdateNode)
    : session_(session), cfg_(cfg), totalSteps_(totalSteps), firstUpdateNode_(firstUpdateNode) {
  const Graph &g = session.graph();
  for (size_t n = firstUpdateNode; n < g.nodes().size(); ++n) {
    const Node &update = g.node(static_cast<NodeId>(n));
    if (opRegistry().find(update.op)->family != "optimizer")
      continue; // loss scaling's all_finite and loss_scale_update
    Slot s{update.inputs.at(1), {}};
    if (cfg.accumulate > 1) {
      // Sized like the param: gradients get their buffers only when dims are bound.
      const Tensor &like = session.exec().tensor(update.inputs.at(0));
      s.accumulated.dtype = like.dtype;
      s.accumulated.shape = like.shape;
      s.accumulated.data = session.backend().allocate(std::max<size_t>(like.bytes(), 1));
      session.backend().fillZero(s.accumulated.data, like.bytes());
      owned_.push_back(s.accumulated.data);
    }
    slots_.push_back(s);
  }
}

Optimizer::~Optimizer() {
  for (void *p : owned_)
    session_.backend().release(p);
}

void Optimizer::accumulateGradients() {
  if (cfg_.accumulate <= 1)
    return;
  for (Slot &s : slots_)
    session_.backend().accumulate(s.accumulated, session_.exec().tensor(s.grad));
}

double Optimizer::apply(int64_t step) {
  Backend &b = session_.backend();
  std::vector<Tensor> grads;
  for (Slot &s : slots_) {
    Tensor grad = session_.exec().tensor(s.grad);
    if (cfg_.accumulate > 1) {
      // The update nodes read grad.<P>: it becomes the mean of the micro-batches'.
      b.fillZero(grad.data, grad.bytes());
      b.accumulate(grad, s.accumulated);
      b.scale(grad, 1.0 / static_cast<double>(cfg_.accumulate));
      b.fillZero(s.accumulated.data, s.accumulated.bytes());
    }
    grads.push_back(grad);
  }
  if (cfg_.clipGradNorm > 0) {
    double sq = 0;
    for (const Tensor &gt : grads)
      sq += b.sumSquares(gt);
    // PyTorch's clip_grad_norm_: scale by max / (norm + 1e-6) when that is below 1.
    const double factor = cfg_.clipGradNorm / (std::sqrt(sq) + 1e-6);
    if (factor < 1)
      for (Tensor &gt : grads)
        b.scale(gt, factor);
  }
  const Graph &g = session_.graph();
  const double lr = learningRate(cfg_.optimizer, cfg_.schedule, step - 1, totalSteps_);
  const double stepNumber = static_cast<double>(step);
  session_.exec().write(g.find(kLearningRateName), &lr, sizeof lr);
  session_.exec().write(g.find(kStepName), &stepNumber, sizeof stepNumber);
  session_.exec().run(KernelContext{}, firstUpdateNode_);
  return lr;
}

} // namespace nng
