// Dropout, embedding and fused dense CPU kernels (see nn.h).
#include "core/cpu/kernels/nn.h"

#include <algorithm>
#include <string>

#include "core/cpu/kernels/linalg.h"
#include "core/cpu/kernels/scalar_math.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

template <typename T>
void dropoutApply(T *y, uint8_t *mask, const T *x, int64_t n, double p, uint64_t seed,
                  uint64_t step) {
  NNG_CHECK(p >= 0 && p < 1, "dropout: p = " + std::to_string(p) + " outside [0, 1)");
  const uint64_t key = dropoutKey(seed, step);
  const uint32_t threshold = dropoutThreshold(p);
  const T scale = T(1.0 / (1.0 - p));
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = dropoutKeep(key, uint64_t(i), threshold);
    y[i] = keep ? x[i] * scale : T(0);
    if (mask)
      mask[i] = keep ? 1 : 0;
  }
}

template <typename I> void checkIds(const I *ids, int64_t count, int64_t vocab) {
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || int64_t(ids[i]) >= vocab)
      throw UserError("embedding id " + std::to_string(int64_t(ids[i])) + " out of range [0, " +
                      std::to_string(vocab) + ") at position " + std::to_string(i));
}

constexpr int64_t kColBlock = 128;

// d act(z) / dz from the forward output y, or from z (preact) for gelu.
template <typename T> T actGrad(Activation act, T y, const T *preact, int64_t i) {
  switch (act) {
  case Activation::None:
    return T(1);
  case Activation::Relu:
    return y > T(0) ? T(1) : T(0);
  case Activation::Sigmoid:
    return y * (T(1) - y);
  case Activation::Tanh:
    return T(1) - y * y;
  case Activation::Gelu:
    return geluGradOf(preact[i]);
  }
  return T(1);
}

} // namespace

template <typename T>
void dropout_fwd(T *y, uint8_t *mask, const T *x, int64_t n, double p, uint64_t seed,
                 uint64_t step) {
  dropoutApply(y, mask, x, n, p, seed, step);
}

template <typename T>
void dropout_bwd(T *dx, const T *dy, int64_t n, double p, uint64_t seed, uint64_t step) {
  dropoutApply<T>(dx, nullptr, dy, n, p, seed, step);
}

template <typename T, typename I>
void embedding_fwd(T *y, const I *ids, const T *weight, int64_t count, int64_t vocab, int64_t dim) {
  checkIds(ids, count, vocab);
#pragma omp parallel for if (count * dim >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < count; ++i)
    std::copy(weight + int64_t(ids[i]) * dim, weight + (int64_t(ids[i]) + 1) * dim, y + i * dim);
}

template <typename T, typename I>
void embedding_bwd(T *dweight, const T *dy, const I *ids, int64_t count, int64_t vocab,
                   int64_t dim) {
  checkIds(ids, count, vocab);
  std::fill(dweight, dweight + vocab * dim, T(0));
  const int64_t blocks = (dim + kColBlock - 1) / kColBlock;
#pragma omp parallel for if (count * dim >= kParallelMin && blocks > 1) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kColBlock, c1 = std::min(dim, c0 + kColBlock);
    for (int64_t i = 0; i < count; ++i) {
      T *dst = dweight + int64_t(ids[i]) * dim;
      const T *src = dy + i * dim;
      for (int64_t j = c0; j < c1; ++j)
        dst[j] += src[j];
    }
  }
}

template <typename T>
void fused_dense_fwd(T *y, T *preact, const T *x, const T *w, const T *b, int64_t m, int64_t k,
                     int64_t n, Activation act) {
  gemm(y, x, w, m, n, k, false, false, T(1), T(0));
  // Epilogue in one pass over y: bias, save the pre-activation, activate.
#pragma omp parallel for if (m * n >= kParallelMin && m > 1) schedule(static)
  for (int64_t r = 0; r < m; ++r) {
    T *row = y + r * n;
    if (b)
      for (int64_t j = 0; j < n; ++j)
        row[j] += b[j];
    if (preact)
      std::copy(row, row + n, preact + r * n);
    switch (act) {
    case Activation::None:
      break;
    case Activation::Relu:
      for (int64_t j = 0; j < n; ++j)
        row[j] = row[j] > T(0) ? row[j] : T(0);
      break;
    case Activation::Gelu:
      for (int64_t j = 0; j < n; ++j)
        row[j] = geluOf(row[j]);
      break;
    case Activation::Sigmoid:
      for (int64_t j = 0; j < n; ++j)
        row[j] = sigmoidOf(row[j]);
      break;
    case Activation::Tanh:
      for (int64_t j = 0; j < n; ++j)
        row[j] = std::tanh(row[j]);
      break;
    }
  }
}

template <typename T>
void fused_dense_bwd(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w, const T *b,
                     const T *y, const T *preact, int64_t m, int64_t k, int64_t n, Activation act,
                     T *workspace) {
  T *dz = act == Activation::None ? nullptr : workspace;
  if (act == Activation::Gelu && !preact) {
    // Recompute z = x w + b into the workspace; dz then overwrites it element by
    // element (each dz[i] reads only z[i]).
    fused_dense_fwd<T>(workspace, nullptr, x, w, b, m, k, n, Activation::None);
    preact = workspace;
  }
  // dz and db in one pass: one task per column block, rows in order.
  const int64_t blocks = (n + kColBlock - 1) / kColBlock;
#pragma omp parallel for if (m * n >= kParallelMin && blocks > 1) schedule(static)
  for (int64_t bl = 0; bl < blocks; ++bl) {
    const int64_t c0 = bl * kColBlock, c1 = std::min(n, c0 + kColBlock);
    double acc[kColBlock] = {};
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t j = c0; j < c1; ++j) {
        const int64_t i = r * n + j;
        T g = dy[i];
        if (dz) {
          g *= actGrad(act, y[i], preact, i);
          dz[i] = g;
        }
        acc[j - c0] += g;
      }
    }
    if (db)
      for (int64_t j = c0; j < c1; ++j)
        db[j] = T(acc[j - c0]);
  }
  const T *g = dz ? dz : dy;
  if (dx)
    gemm(dx, g, w, m, k, n, false, true, T(1), T(0));
  if (dw)
    gemm(dw, x, g, k, n, m, true, false, T(1), T(0));
}

template <typename T>
void fused_dense_bwd(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w, const T *y,
                     const T *preact, int64_t m, int64_t k, int64_t n, Activation act,
                     T *workspace) {
  NNG_CHECK(act != Activation::Gelu || preact, "fused_dense_bwd: gelu needs the pre-activation");
  fused_dense_bwd<T>(dx, dw, db, dy, x, w, nullptr, y, preact, m, k, n, act, workspace);
}

#define NNG_INSTANTIATE_IDS(T, I)                                                                  \
  template void embedding_fwd<T, I>(T *, const I *, const T *, int64_t, int64_t, int64_t);         \
  template void embedding_bwd<T, I>(T *, const T *, const I *, int64_t, int64_t, int64_t);
#define NNG_INSTANTIATE(T)                                                                         \
  template void dropout_fwd<T>(T *, uint8_t *, const T *, int64_t, double, uint64_t, uint64_t);    \
  template void dropout_bwd<T>(T *, const T *, int64_t, double, uint64_t, uint64_t);               \
  NNG_INSTANTIATE_IDS(T, int32_t)                                                                  \
  NNG_INSTANTIATE_IDS(T, int64_t)                                                                  \
  template void fused_dense_fwd<T>(T *, T *, const T *, const T *, const T *, int64_t, int64_t,    \
                                   int64_t, Activation);                                           \
  template void fused_dense_bwd<T>(T *, T *, T *, const T *, const T *, const T *, const T *,      \
                                   const T *, const T *, int64_t, int64_t, int64_t, Activation,    \
                                   T *);                                                           \
  template void fused_dense_bwd<T>(T *, T *, T *, const T *, const T *, const T *, const T *,      \
                                   const T *, int64_t, int64_t, int64_t, Activation, T *);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
