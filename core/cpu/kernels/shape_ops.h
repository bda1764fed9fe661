// Shape CPU kernels: reshape/flatten (copies), concat and slice along one axis.
// Conventions: common.h. Instantiated for float, double, int32_t, int64_t and uint8_t
// (bool). Tensors along an axis are viewed as [outer, axis, inner]
// (splitAt in common.h computes the three sizes from a shape and an axis).
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// reshape and flatten do not move data: a row-major tensor and its reshape have the
// same bytes. The executor should alias the output to the input (no kernel call);
// where it cannot, these copy n elements (nothing when y == x). Their backward is the
// same copy of the gradient.
template <typename T> void reshape_fwd(T *y, const T *x, int64_t n);
template <typename T> void reshape_bwd(T *dx, const T *dy, int64_t n);

// y = concat(xs[0..count), axis). Input i is [outer, axisSizes[i], inner]; y is
// [outer, sum(axisSizes), inner].
template <typename T>
void concat_fwd(T *y, const T *const *xs, const int64_t *axisSizes, int count, int64_t outer,
                int64_t inner);
// dxs[i] = the slice of dy that came from input i; nullptr entries are skipped.
template <typename T>
void concat_bwd(T *const *dxs, const T *dy, const int64_t *axisSizes, int count, int64_t outer,
                int64_t inner);

// y = x[.., begin:end, ..] along the axis: x is [outer, axisLen, inner], y is
// [outer, end - begin, inner]. begin/end are already normalized by the caller:
// 0 <= begin <= end <= axisLen.
template <typename T>
void slice_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner, int64_t begin,
               int64_t end);
// dx = zeros with dy written at [.., begin:end, ..].
template <typename T>
void slice_bwd(T *dx, const T *dy, int64_t outer, int64_t axisLen, int64_t inner, int64_t begin,
               int64_t end);

} // namespace nng::cpu
