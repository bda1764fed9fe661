// Linear-algebra CPU kernels: GEMM through OpenBLAS (CBLAS), matmul with numpy batch
// broadcasting, and the general N-d transpose. Conventions: common.h.
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// c[m, n] = alpha * op(a) op(b) + beta * c, all row-major and contiguous:
// op(a) is [m, k] (a stored [m, k], or [k, m] when transA), op(b) is [k, n] (b stored
// [k, n], or [n, k] when transB). cblas_sgemm / cblas_dgemm. Inside an OpenMP
// parallel region, and below 4M multiply-adds, one thread computes it; otherwise c is
// split into one block per thread, each computed by single-threaded OpenBLAS.
template <typename T>
void gemm(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k, bool transA, bool transB,
          T alpha, T beta);

// c = a @ b: a [..., M, K], b [..., K, N] (rank >= 2 each), c [..., M, N] where the
// batch dims (all but the last two) broadcast numpy-style. When b has no batch
// (or only 1s) the batches of a fold into one GEMM of M * batch rows; otherwise one
// GEMM per output batch (in parallel over batches when the matrices are small).
template <typename T>
void matmul_fwd(T *c, const T *a, const T *b, const Dims &aShape, const Dims &bShape);

// da = dc @ b^T and db = a^T @ dc per batch, summed over the batch dims an operand
// was broadcast along (in batch order: deterministic). Either grad may be nullptr.
template <typename T>
void matmul_bwd(T *da, T *db, const T *dc, const T *a, const T *b, const Dims &aShape,
                const Dims &bShape);

// y = x with its axes permuted: y.shape[i] = x.shape[perm[i]] (perm is a permutation
// of 0..rank-1, given as a Dims of axis numbers; an empty perm, the registry's
// default, reverses the axes). Copies runs when the innermost axis stays innermost;
// otherwise transposes 2-d tiles for cache locality. Also instantiated for int32_t,
// int64_t and uint8_t.
template <typename T> void transpose_fwd(T *y, const T *x, const Dims &xShape, const Dims &perm);
// dx = dy permuted back (the inverse permutation); xShape is the forward input's.
template <typename T> void transpose_bwd(T *dx, const T *dy, const Dims &xShape, const Dims &perm);

} // namespace nng::cpu
