// Optimizer updates (see optimizer.h). The arithmetic runs on the backend.
#include "core/train/optimizer.h"

#include <cmath>

#include "core/passes/autodiff.h"

namespace nng {

Optimizer::Optimizer(Session &session, const TrainConfig &cfg, int64_t totalSteps)
    : session_(session), cfg_(cfg), totalSteps_(totalSteps) {
  const Graph &g = session.graph();
  const size_t states =
      cfg.optimizer.type == OptimizerType::Sgd ? (cfg.optimizer.momentum > 0 ? 1 : 0) : 2;
  for (ValueId p : g.params()) {
    if (g.value(p).kind != ValueKind::Param)
      continue;
    ValueId gv = g.find(gradName(g.value(p).name));
    if (gv == kNone)
      continue; // does not reach the loss: nothing to update
    Slot s{p, gv, {}, {}};
    for (size_t i = 0; i < states; ++i)
      s.state.push_back(allocateLike(session.exec().tensor(p)));
    if (cfg.accumulate > 1)
      s.accumulated = allocateLike(session.exec().tensor(p));
    slots_.push_back(std::move(s));
  }
}

Optimizer::~Optimizer() {
  for (void *p : owned_)
    session_.backend().release(p);
}

Tensor Optimizer::allocateLike(const Tensor &t) {
  Tensor out;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.data = session_.backend().allocate(std::max<size_t>(t.bytes(), 1));
  session_.backend().fillZero(out.data, t.bytes());
  owned_.push_back(out.data);
  return out;
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
    if (cfg_.accumulate > 1) {
      b.scale(s.accumulated, 1.0 / static_cast<double>(cfg_.accumulate));
      grads.push_back(s.accumulated);
    } else {
      grads.push_back(session_.exec().tensor(s.grad));
    }
  }
  lastNorm_ = 0;
  if (cfg_.clipGradNorm > 0) {
    double sq = 0;
    for (const Tensor &gt : grads)
      sq += b.sumSquares(gt);
    lastNorm_ = std::sqrt(sq);
    // PyTorch's clip_grad_norm_: scale by max / (norm + 1e-6) when that is below 1.
    const double factor = cfg_.clipGradNorm / (lastNorm_ + 1e-6);
    if (factor < 1)
      for (Tensor &gt : grads)
        b.scale(gt, factor);
  }
  UpdateRule rule;
  const OptimizerConfig &o = cfg_.optimizer;
  rule.kind = o.type == OptimizerType::Sgd    ? UpdateRule::Kind::Sgd
              : o.type == OptimizerType::Adam ? UpdateRule::Kind::Adam
                                              : UpdateRule::Kind::AdamW;
  rule.lr = learningRate(o, cfg_.schedule, step - 1, totalSteps_);
  rule.momentum = o.momentum;
  rule.nesterov = o.nesterov;
  rule.weightDecay = o.weightDecay;
  rule.beta1 = o.betas[0];
  rule.beta2 = o.betas[1];
  rule.eps = o.eps;
  rule.step = step;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Tensor param = session_.exec().tensor(slots_[i].param);
    b.applyUpdate(rule, param, grads[i], slots_[i].state);
    if (cfg_.accumulate > 1)
      b.fillZero(slots_[i].accumulated.data, slots_[i].accumulated.bytes());
  }
  return rule.lr;
}

TensorFile Optimizer::state() const {
  TensorFile out;
  const Graph &g = session_.graph();
  for (const Slot &s : slots_) {
    for (size_t i = 0; i < s.state.size(); ++i) {
      NamedTensor nt;
      nt.dtype = s.state[i].dtype;
      nt.shape = s.state[i].shape;
      nt.bytes.resize(s.state[i].bytes());
      session_.backend().copyOut(nt.bytes.data(), s.state[i].data, nt.bytes.size());
      out["optimizer/" + g.value(s.param).name + "/" + std::to_string(i)] = std::move(nt);
    }
  }
  return out;
}

void Optimizer::loadState(const TensorFile &t, const std::string &file) {
  const Graph &g = session_.graph();
  for (Slot &s : slots_) {
    for (size_t i = 0; i < s.state.size(); ++i) {
      std::string key = "optimizer/" + g.value(s.param).name + "/" + std::to_string(i);
      auto it = t.find(key);
      if (it == t.end() || it->second.bytes.size() != s.state[i].bytes())
        throw UserError(file + ": optimizer state '" + key +
                        "' is missing or has the wrong size (was the run made with another "
                        "optimizer?)");
      session_.backend().copyIn(s.state[i].data, it->second.bytes.data(), it->second.bytes.size());
    }
  }
}

} // namespace nng
