// Normalization CPU kernels: batch norm (train and eval) over NCHW or [N, C] inputs,
// and layer norm over the last axis. Conventions: common.h. Statistics accumulate
// in double, one task per channel (batch norm) or per row (layer norm), in a fixed
// order: deterministic for any thread count.
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// Train mode. x is [n, c, hw] (hw = height * width, 1 for a [n, c] input); gamma,
// beta, the running statistics and the saved statistics are [c].
// mean and biased variance over (n, hw) per channel normalize x:
//   y = gamma (x - mean) / sqrt(var + eps) + beta.
// The running statistics (nullable) are updated in place, PyTorch-style:
//   running_mean = (1 - momentum) running_mean + momentum mean
//   running_var  = (1 - momentum) running_var  + momentum var * m / (m - 1)  (unbiased)
// with m = n * hw. saveMean / saveInvStd (nullable) receive mean and 1/sqrt(var + eps)
// for the backward. Throws nng::UserError when m == 1 (the variance is undefined).
template <typename T>
void batch_norm_train_fwd(T *y, T *saveMean, T *saveInvStd, T *runningMean, T *runningVar,
                          const T *x, const T *gamma, const T *beta, int64_t n, int64_t c,
                          int64_t hw, double eps, double momentum);

// Eval mode: normalizes with the running statistics, updates nothing.
template <typename T>
void batch_norm_eval_fwd(T *y, const T *x, const T *gamma, const T *beta, const T *runningMean,
                         const T *runningVar, int64_t n, int64_t c, int64_t hw, double eps);

// Backward of train mode (the batch statistics depend on x). saveMean / saveInvStd
// are the forward's; when nullptr they are recomputed from x and eps. Any of dx,
// dgamma, dbeta may be nullptr.
template <typename T>
void batch_norm_bwd(T *dx, T *dgamma, T *dbeta, const T *dy, const T *x, const T *gamma,
                    const T *saveMean, const T *saveInvStd, int64_t n, int64_t c, int64_t hw,
                    double eps);

// x is [rows, cols]: every row is normalized over its cols (biased variance), then
// y = gamma * xhat + beta with gamma, beta [cols]. saveMean / saveRstd ([rows],
// nullable) receive each row's mean and 1/sqrt(var + eps).
template <typename T>
void layer_norm_fwd(T *y, T *saveMean, T *saveRstd, const T *x, const T *gamma, const T *beta,
                    int64_t rows, int64_t cols, double eps);
// saveMean / saveRstd as the forward's, or nullptr to recompute them. dgamma/dbeta
// sum over rows in row order (per column block, in parallel over blocks).
template <typename T>
void layer_norm_bwd(T *dx, T *dgamma, T *dbeta, const T *dy, const T *x, const T *gamma,
                    const T *saveMean, const T *saveRstd, int64_t rows, int64_t cols, double eps);

} // namespace nng::cpu
