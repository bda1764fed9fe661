// Optimizer update CPU kernels with PyTorch's semantics (torch.optim.SGD, Adam, AdamW,
// single-tensor code path, amsgrad off, maximize off), and global-norm gradient
// clipping (torch.nn.utils.clip_grad_norm_). Conventions: common.h.
//
// `step` is the 1-based number of this update (PyTorch's state["step"] after its
// increment): 1 on the first call. Hyperparameters are doubles; the scalar factors
// derived from them (bias corrections, step size) are computed in double, then the
// elementwise arithmetic runs in T as PyTorch's does for T-typed parameters.
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// g = grad + weightDecay * param
// momentum != 0:  buf = (step == 1) ? g : momentum * buf + (1 - dampening) * g
//                 g = nesterov ? g + momentum * buf : buf
// param -= lr * g.  momentumBuf may be nullptr when momentum == 0.
template <typename T>
void sgd_step(T *param, T *momentumBuf, const T *grad, int64_t n, int64_t step, double lr,
              double momentum, double dampening, double weightDecay, bool nesterov);

// g = grad + weightDecay * param          (L2 penalty, Adam only)
// m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
// param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
template <typename T>
void adam_step(T *param, T *expAvg, T *expAvgSq, const T *grad, int64_t n, int64_t step, double lr,
               double beta1, double beta2, double eps, double weightDecay);

// Decoupled weight decay: param *= 1 - lr * weightDecay, then the Adam update above
// without the L2 term.
template <typename T>
void adamw_step(T *param, T *expAvg, T *expAvgSq, const T *grad, int64_t n, int64_t step, double lr,
                double beta1, double beta2, double eps, double weightDecay);

// sqrt(sum of squares) over `count` tensors (grads[i] has sizes[i] elements), in
// double, deterministic (blocked sums, tensors in order).
template <typename T>
double grad_global_norm(const T *const *grads, const int64_t *sizes, int count);

// Scales every gradient by maxNorm / (norm + 1e-6) when that is below 1; returns the
// norm before clipping (what PyTorch's clip_grad_norm_ returns).
template <typename T>
double clip_grad_norm(T *const *grads, const int64_t *sizes, int count, double maxNorm);

// Dynamic loss scaling (mixed precision, PyTorch GradScaler): whether every element
// of x is finite (no inf, no NaN).
template <typename T> bool all_finite(const T *x, int64_t n);

// GradScaler's update: not finite: scale *= backoff, goodSteps = 0; finite:
// goodSteps += 1, and when it reaches `interval`, scale *= growth and goodSteps = 0.
void loss_scale_update(float *scale, float *goodSteps, bool finite, double growth,
                       double backoff, int64_t interval);

} // namespace nng::cpu
