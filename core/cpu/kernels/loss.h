// Loss CPU kernels: cross entropy over integer labels (fused with log-softmax),
// mean squared error, and binary cross entropy on logits. Every loss is the mean
// over its elements (samples for cross entropy) and writes one scalar; each backward
// takes that scalar's upstream gradient `dloss` (a pointer to one element).
// Sums are deterministic blocked sums (common.h). Conventions: common.h.
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// loss = mean_i (logsumexp(logits[i, :]) - logits[i, labels[i]]) for logits [n, c]
// and labels [n] (L = int32_t or int64_t). The log-softmax is computed in-row with
// the row max subtracted, so large logits do not overflow.
// Throws nng::UserError "label 7 out of range [0, 5) at sample 3" for a bad label.
// softmax_cross_entropy (the fused op) is the same computation: use these kernels.
template <typename T, typename L>
void cross_entropy_fwd(T *loss, const T *logits, const L *labels, int64_t n, int64_t c);
// dlogits = dloss * (softmax(logits) - onehot(labels)) / n. Checks labels as above.
template <typename T, typename L>
void cross_entropy_bwd(T *dlogits, const T *dloss, const T *logits, const L *labels, int64_t n,
                       int64_t c);

// loss = mean((pred - target)^2) over n elements (same shapes).
template <typename T> void mse_fwd(T *loss, const T *pred, const T *target, int64_t n);
// dpred = dloss * 2 (pred - target) / n; dtarget = -dpred. Either may be nullptr.
template <typename T>
void mse_bwd(T *dpred, T *dtarget, const T *dloss, const T *pred, const T *target, int64_t n);

// loss = mean(max(x, 0) - x t + log1p(exp(-|x|))) over n elements: the stable form of
// -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))).
template <typename T>
void bce_with_logits_fwd(T *loss, const T *logits, const T *target, int64_t n);
// dlogits = dloss (sigmoid(x) - t) / n; dtarget = -dloss x / n. Either may be nullptr.
template <typename T>
void bce_with_logits_bwd(T *dlogits, T *dtarget, const T *dloss, const T *logits, const T *target,
                         int64_t n);

} // namespace nng::cpu
