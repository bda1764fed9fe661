// Reshape, concat and slice CPU kernels (see shape_ops.h).
#include "core/cpu/kernels/shape_ops.h"

#include <algorithm>
#include <cstring>

#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

template <typename T> void copy(T *y, const T *x, int64_t n) {
  if (y == x || n == 0)
    return;
  if (n < kParallelMin) {
    std::memcpy(y, x, size_t(n) * sizeof(T));
    return;
  }
  constexpr int64_t kChunk = int64_t(1) << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c)
    std::memcpy(y + c * kChunk, x + c * kChunk,
                size_t(std::min(kChunk, n - c * kChunk)) * sizeof(T));
}

// Copies `rows` runs of `len` elements from src (row stride srcStride) to dst (row
// stride dstStride).
template <typename T>
void copyRows(T *dst, int64_t dstStride, const T *src, int64_t srcStride, int64_t rows,
              int64_t len) {
  if (len == 0)
    return;
#pragma omp parallel for if (rows * len >= kParallelMin && rows > 1) schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dstStride, src + r * srcStride, size_t(len) * sizeof(T));
}

} // namespace

template <typename T> void reshape_fwd(T *y, const T *x, int64_t n) { copy(y, x, n); }
template <typename T> void reshape_bwd(T *dx, const T *dy, int64_t n) { copy(dx, dy, n); }

template <typename T>
void concat_fwd(T *y, const T *const *xs, const int64_t *axisSizes, int count, int64_t outer,
                int64_t inner) {
  int64_t total = 0;
  for (int i = 0; i < count; ++i)
    total += axisSizes[i];
  int64_t at = 0;
  for (int i = 0; i < count; ++i) {
    copyRows(y + at * inner, total * inner, xs[i], axisSizes[i] * inner, outer,
             axisSizes[i] * inner);
    at += axisSizes[i];
  }
}

template <typename T>
void concat_bwd(T *const *dxs, const T *dy, const int64_t *axisSizes, int count, int64_t outer,
                int64_t inner) {
  int64_t total = 0;
  for (int i = 0; i < count; ++i)
    total += axisSizes[i];
  int64_t at = 0;
  for (int i = 0; i < count; ++i) {
    if (dxs[i])
      copyRows(dxs[i], axisSizes[i] * inner, dy + at * inner, total * inner, outer,
               axisSizes[i] * inner);
    at += axisSizes[i];
  }
}

template <typename T>
void slice_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner, int64_t begin,
               int64_t end) {
  NNG_CHECK(0 <= begin && begin <= end && end <= axisLen, "slice bounds not normalized");
  copyRows(y, (end - begin) * inner, x + begin * inner, axisLen * inner, outer,
           (end - begin) * inner);
}

template <typename T>
void slice_bwd(T *dx, const T *dy, int64_t outer, int64_t axisLen, int64_t inner, int64_t begin,
               int64_t end) {
  NNG_CHECK(0 <= begin && begin <= end && end <= axisLen, "slice bounds not normalized");
  const int64_t n = outer * axisLen * inner;
  std::fill(dx, dx + n, T(0));
  copyRows(dx + begin * inner, axisLen * inner, dy, (end - begin) * inner, outer,
           (end - begin) * inner);
}

#define NNG_INSTANTIATE(T)                                                                         \
  template void reshape_fwd<T>(T *, const T *, int64_t);                                           \
  template void reshape_bwd<T>(T *, const T *, int64_t);                                           \
  template void concat_fwd<T>(T *, const T *const *, const int64_t *, int, int64_t, int64_t);      \
  template void concat_bwd<T>(T *const *, const T *, const int64_t *, int, int64_t, int64_t);      \
  template void slice_fwd<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t);         \
  template void slice_bwd<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)
// Integer and bool (uint8_t) tensors move through shape ops too (labels, ids, masks).
NNG_INSTANTIATE(int32_t)
NNG_INSTANTIATE(int64_t)
NNG_INSTANTIATE(uint8_t)

} // namespace nng::cpu
