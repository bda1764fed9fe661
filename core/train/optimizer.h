// The optimizer as part of the training graph: appendOptimizerUpdate adds one update
// node per parameter (sgd_update / adam_update, in place) and the state buffers they
// keep; Optimizer runs them each optimizer step after feeding the scheduled learning
// rate, and does what spans all parameters first (gradient accumulation, clipping).
#pragma once

#include <vector>

#include "core/data/config.h"
#include "core/train/session.h"

namespace nng {

// The names of the learning-rate and step buffers the update nodes read.
constexpr const char *kLearningRateName = "optim.lr";
constexpr const char *kStepName = "optim.step";

// Appends to `g` (which holds `grad.<P>` values: autodiff ran) the buffers `optim.lr`
// and `optim.step` (f64 scalars), the zero-initialized state of every parameter that
// has a gradient (`optim.<P>.momentum`, or `optim.<P>.m` and `optim.<P>.v`), and the
// update node `optim.<P>.updated` of each, marked as an output. When the amp pass
// added dynamic loss scaling (buffers amp.loss_scale and amp.good_steps), it also
// appends `amp.finite = all_finite(grads...)`, read by every update (false: the step
// is skipped), and `amp.loss_scale.updated = loss_scale_update(...)` after them.
void appendOptimizerUpdate(Graph &g, const OptimizerConfig &opt);

class Optimizer {
public:
  // `session`'s graph is a training step: forward and backward nodes, then the update
  // nodes from `firstUpdateNode` on.
  Optimizer(Session &session, const TrainConfig &cfg, int64_t totalSteps,
            size_t firstUpdateNode);
  ~Optimizer();
  Optimizer(const Optimizer &) = delete;
  Optimizer &operator=(const Optimizer &) = delete;

  // Adds this micro-batch's gradients to the accumulators (only when accumulating).
  void accumulateGradients();
  // Runs update number `step` (1-based) from the gradients of the last run, or from
  // the accumulators averaged over `accumulate` micro-batches, clipped when asked.
  // Returns the learning rate used.
  double apply(int64_t step);

private:
  struct Slot {
    ValueId grad;
    Tensor accumulated; // when accumulate > 1
  };

  Session &session_;
  TrainConfig cfg_;
  int64_t totalSteps_;
  size_t firstUpdateNode_;
  std::vector<Slot> slots_;
  std::vector<void *> owned_;
};

} // namespace nng
