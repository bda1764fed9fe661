// The optimizer: per-parameter state on the backend, the learning-rate schedule,
// gradient accumulation and clipping, and one update per optimizer step.
#pragma once

#include <vector>

#include "core/data/config.h"
#include "core/train/session.h"

namespace nng {

class Optimizer {
public:
  // `session`'s graph must hold `grad.<param>` values (autodiff ran).
  Optimizer(Session &session, const TrainConfig &cfg, int64_t totalSteps);
  ~Optimizer();
  Optimizer(const Optimizer &) = delete;
  Optimizer &operator=(const Optimizer &) = delete;

  // Adds this micro-batch's gradients to the accumulators (only when accumulating).
  void accumulateGradients();
  // Applies update number `step` (1-based) from the gradients of the last run, or
  // from the accumulators averaged over `accumulate` micro-batches. Returns the
  // learning rate used.
  double apply(int64_t step);
  // The global gradient norm before clipping in the last apply (0 when not clipping).
  double lastGradNorm() const { return lastNorm_; }

  // Optimizer state as tensors named "optimizer/<param>/<i>", for checkpoints.
  TensorFile state() const;
  void loadState(const TensorFile &t, const std::string &file);

private:
  struct Slot {
    ValueId param, grad;
    std::vector<Tensor> state;   // on the backend
    Tensor accumulated;          // when accumulate > 1
  };
  Tensor allocateLike(const Tensor &t);

  Session &session_;
  TrainConfig cfg_;
  int64_t totalSteps_;
  std::vector<Slot> slots_;
  std::vector<void *> owned_;
  double lastNorm_ = 0;
};

} // namespace nng
