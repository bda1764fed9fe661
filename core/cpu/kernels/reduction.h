// Reduction CPU kernels: sum/mean/max over a set of axes, softmax and log_softmax
// along one axis. Conventions: common.h.
//
// Axes are a bit mask over x's dims (reduceMask in common.h builds it from the
// registry's `axis` list; an empty list means all axes). keepdims does not change the
// output's bytes (only its shape), so the kernels do not take it: y holds the kept
// dims in order. Sums accumulate in double; every output element is reduced by one
// task in row-major order of the reduced dims, so results are bit-identical on every
// run and for any thread count.
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

template <typename T> void sum_fwd(T *y, const T *x, const Dims &xShape, uint32_t axesMask);
// dx = dy broadcast back over the reduced axes.
template <typename T> void sum_bwd(T *dx, const T *dy, const Dims &xShape, uint32_t axesMask);

// sum / (number of reduced elements).
template <typename T> void mean_fwd(T *y, const T *x, const Dims &xShape, uint32_t axesMask);
template <typename T> void mean_bwd(T *dx, const T *dy, const Dims &xShape, uint32_t axesMask);

// The maximum; NaN propagates (the first NaN wins). An empty reduction gives -inf.
template <typename T> void max_fwd(T *y, const T *x, const Dims &xShape, uint32_t axesMask);
// dx is dy at the first (lowest flat index) argmax of each reduced group, 0 elsewhere.
// The argmax is recomputed from x, so nothing needs saving in the forward.
template <typename T>
void max_bwd(T *dx, const T *dy, const T *x, const Dims &xShape, uint32_t axesMask);

// Along the middle axis of x viewed as [outer, axisLen, inner]; numerically stable
// (the row maximum is subtracted before exponentiating). y may alias x.
template <typename T>
void softmax_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner);
// dx = y * (dy - sum(dy * y)) using the forward output y.
template <typename T>
void softmax_bwd(T *dx, const T *dy, const T *y, int64_t outer, int64_t axisLen, int64_t inner);

// y = x - max - log(sum(exp(x - max))).
template <typename T>
void log_softmax_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner);
// dx = dy - exp(y) * sum(dy) using the forward output y.
template <typename T>
void log_softmax_bwd(T *dx, const T *dy, const T *y, int64_t outer, int64_t axisLen, int64_t inner);

} // namespace nng::cpu
