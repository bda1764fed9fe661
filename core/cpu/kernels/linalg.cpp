// GEMM, batched matmul and transpose CPU kernels (see linalg.h).
#include "core/cpu/kernels/linalg.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include <cblas.h>
#include <omp.h>

#include "core/cpu/kernels/strided.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// Matrices smaller than this many multiply-adds are done one per thread (OpenBLAS
// single-threaded inside the parallel region) instead of one threaded GEMM each.
constexpr int64_t kSmallGemm = int64_t(1) << 18;
// A lone GEMM smaller than this many multiply-adds runs on one thread: below it,
// a split over two cores costs more than it saves, and moves the operands between
// the cores' caches (784-64-10 at batch 32: its two GEMMs take 0.08 ms on one thread
// against 0.15 ms on two). Larger ones are split by splitGemm.
constexpr int64_t kSerialGemm = int64_t(1) << 22;

blasint blasDim(int64_t v) {
  NNG_CHECK(v >= 0 && v <= INT_MAX, "GEMM dimension " + std::to_string(v) + " exceeds BLAS int");
  return blasint(v);
}

// The batch dims (all but the last two) of a matmul operand.
Dims batchOf(const Dims &s) {
  NNG_CHECK(s.rank >= 2, "matmul operand " + s.str() + " has rank < 2");
  Dims b;
  b.rank = s.rank - 2;
  for (int i = 0; i < b.rank; ++i)
    b[i] = s[i];
  return b;
}

// Output batch i's matrix index in a and b (broadcast).
struct BatchMap {
  Dims out;
  int64_t sa[kMaxRank], sb[kMaxRank];

  BatchMap(const Dims &aShape, const Dims &bShape) {
    const Dims aB = batchOf(aShape), bB = batchOf(bShape);
    out = broadcastShape(aB, bB);
    broadcastStrides(aB, out, sa);
    broadcastStrides(bB, out, sb);
  }
  void map(int64_t i, int64_t &ia, int64_t &ib) const {
    ia = ib = 0;
    for (int d = out.rank - 1; d >= 0; --d) {
      const int64_t c = i % out[d];
      i /= out[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
  }
};

// One batched product per output batch i: run(i, ia, ib). Independent batches (each
// writing its own output) run in parallel when they are small.
template <typename F>
void forBatches(const BatchMap &bm, int64_t flopsPerBatch, bool independent, F run) {
  const int64_t batches = bm.out.numel();
  const bool par = independent && batches > 1 && flopsPerBatch < kSmallGemm &&
                   batches * flopsPerBatch >= kParallelMin;
#pragma omp parallel for if (par) schedule(static)
  for (int64_t i = 0; i < batches; ++i) {
    int64_t ia, ib;
    bm.map(i, ia, ib);
    run(i, ia, ib);
  }
}

template <typename T>
void blasGemm(bool ta, bool tb, blasint m, blasint n, blasint k, T alpha, const T *a, blasint lda,
              const T *b, blasint ldb, T beta, T *c, blasint ldc);
template <>
void blasGemm<float>(bool ta, bool tb, blasint m, blasint n, blasint k, float alpha, const float *a,
                     blasint lda, const float *b, blasint ldb, float beta, float *c, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}
template <>
void blasGemm<double>(bool ta, bool tb, blasint m, blasint n, blasint k, double alpha,
                      const double *a, blasint lda, const double *b, blasint ldb, double beta,
                      double *c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// One GEMM on `threads` threads, c split into one block per thread, each an OpenBLAS call
// on its own thread. OpenBLAS's own threading shares one packed panel between the threads
// and synchronizes them after every block of it; at the MLPs' sizes that costs a quarter
// of the time (784x512x128, the first layer's weight gradient: 265 GFLOP/s split this
// way against 200 with OpenBLAS's threads, bench/sgemm_ceiling.cpp). Each thread packs
// all of the operand it shares, so the split runs along the other one: c's columns when a
// is the smaller, its rows otherwise. Blocks are whole multiples of 16 elements (one cache
// line of floats) and at least 64 wide. Returns false, computing nothing, when that
// dimension is too narrow for so many blocks: with many threads, OpenBLAS's own
// two-dimensional split beats one in which every thread packs the whole shared operand.
template <typename T>
bool splitGemm(int threads, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a,
               const T *b, T beta, T *c) {
  const bool byColumns = m < n;
  const int64_t extent = byColumns ? n : m;
  const int64_t units = (extent + 15) / 16;
  if (units < 4 * int64_t(threads))
    return false;
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), parts = omp_get_num_threads();
    const int64_t lo = std::min(extent, units * t / parts * 16);
    const int64_t hi = std::min(extent, units * (t + 1) / parts * 16);
    if (lo < hi) {
      if (byColumns)
        blasGemm<T>(ta, tb, blasDim(m), blasDim(hi - lo), blasDim(k), alpha, a, blasDim(lda),
                    tb ? b + lo * k : b + lo, blasDim(ldb), beta, c + lo, blasDim(n));
      else
        blasGemm<T>(ta, tb, blasDim(hi - lo), blasDim(n), blasDim(k), alpha,
                    ta ? a + lo : a + lo * k, blasDim(lda), b, blasDim(ldb), beta, c + lo * n,
                    blasDim(n));
    }
  }
  return true;
}

} // namespace

template <typename T>
void gemm(T *c, const T *a, const T *b, int64_t m, int64_t n, int64_t k, bool transA, bool transB,
          T alpha, T beta) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) { // BLAS leaves c untouched; the product of empty matrices is 0
    for (int64_t i = 0; i < m * n; ++i)
      c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  const int threads = omp_get_max_threads();
  const bool large = m * n * k >= kSerialGemm;
  if (threads > 1 && !omp_in_parallel() && large &&
      splitGemm(threads, transA, transB, m, n, k, alpha, a, b, beta, c))
    return;
  // OpenBLAS (OpenMP build) takes its thread count from omp_get_max_threads().
  const bool serial = threads > 1 && !omp_in_parallel() && !large;
  if (serial)
    omp_set_num_threads(1);
  blasGemm<T>(transA, transB, blasDim(m), blasDim(n), blasDim(k), alpha, a, blasDim(transA ? m : k),
              b, blasDim(transB ? k : n), beta, c, blasDim(n));
  if (serial)
    omp_set_num_threads(threads);
}

template <typename T>
void matmul_fwd(T *c, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  const int64_t M = aS[aS.rank - 2], K = aS[aS.rank - 1], N = bS[bS.rank - 1];
  NNG_CHECK(bS[bS.rank - 2] == K, "matmul inner dims differ: " + aS.str() + " @ " + bS.str());
  const BatchMap bm(aS, bS);
  if (batchOf(bS).numel() == 1) { // a's batches stack into the rows of one GEMM
    gemm(c, a, b, bm.out.numel() * M, N, K, false, false, T(1), T(0));
    return;
  }
  forBatches(bm, M * N * K, true, [&](int64_t i, int64_t ia, int64_t ib) {
    gemm(c + i * M * N, a + ia * M * K, b + ib * K * N, M, N, K, false, false, T(1), T(0));
  });
}

template <typename T>
void matmul_bwd(T *da, T *db, const T *dc, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  const int64_t M = aS[aS.rank - 2], K = aS[aS.rank - 1], N = bS[bS.rank - 1];
  const BatchMap bm(aS, bS);
  const int64_t batches = bm.out.numel();
  const int64_t aBatches = batchOf(aS).numel(), bBatches = batchOf(bS).numel();

  if (bBatches == 1) {
    // b is shared by every batch: fold the batches of a and dc into rows.
    if (da)
      gemm(da, dc, b, batches * M, K, N, false, true, T(1), T(0));
    if (db)
      gemm(db, a, dc, K, N, batches * M, true, false, T(1), T(0));
    return;
  }
  // An operand with fewer batches than the output receives several contributions:
  // accumulate them serially in batch order (beta = 1 after zeroing).
  if (da) {
    const bool unique = aBatches == batches;
    if (!unique)
      std::fill(da, da + aBatches * M * K, T(0));
    forBatches(bm, M * N * K, unique, [&](int64_t i, int64_t ia, int64_t ib) {
      gemm(da + ia * M * K, dc + i * M * N, b + ib * K * N, M, K, N, false, true, T(1),
           unique ? T(0) : T(1));
    });
  }
  if (db) {
    const bool unique = bBatches == batches;
    if (!unique)
      std::fill(db, db + bBatches * K * N, T(0));
    forBatches(bm, M * N * K, unique, [&](int64_t i, int64_t ia, int64_t ib) {
      gemm(db + ib * K * N, a + ia * M * K, dc + i * M * N, K, N, M, true, false, T(1),
           unique ? T(0) : T(1));
    });
  }
}

namespace {

constexpr int64_t kTile = 32;

} // namespace

namespace {

// The registry's default perm, [], reverses the axes.
Dims resolvePerm(const Dims &perm, int rank) {
  if (perm.rank != 0 || rank == 0)
    return perm;
  Dims r;
  r.rank = rank;
  for (int i = 0; i < rank; ++i)
    r[i] = rank - 1 - i;
  return r;
}

} // namespace

template <typename T> void transpose_fwd(T *y, const T *x, const Dims &xS, const Dims &permAttr) {
  const Dims perm = resolvePerm(permAttr, xS.rank);
  NNG_CHECK(perm.rank == xS.rank, "transpose: perm " + perm.str() + " for shape " + xS.str());
  Dims yS;
  yS.rank = xS.rank;
  int64_t xStr[kMaxRank], srcStr[kMaxRank], yStr[kMaxRank];
  contiguousStrides(xS, xStr);
  uint32_t seen = 0;
  for (int i = 0; i < xS.rank; ++i) {
    const int64_t p = perm[i];
    NNG_CHECK(p >= 0 && p < xS.rank && !(seen >> p & 1u), "transpose: bad perm " + perm.str());
    seen |= 1u << p;
    yS[i] = xS[p];
    srcStr[i] = xStr[p];
  }
  contiguousStrides(yS, yStr);
  const StridedLoop l = makeLoop(yS, {yStr, srcStr});
  const int last = l.rank - 1;
  if (l.rank <= 1 || l.stride[1][last] == 1) {
    // The innermost run is contiguous in both: copy runs.
    forEachRun(l, [&](const int64_t *off, int64_t cnt) {
      std::memcpy(y + off[0], x + off[1], size_t(cnt) * sizeof(T));
    });
    return;
  }
  // Tile the plane of y's innermost dim (`last`) and the dim that is x's innermost
  // (`p`, x stride 1), so both reads and writes touch whole cache lines.
  int p = -1;
  for (int i = 0; i < l.rank; ++i)
    if (l.stride[1][i] == 1)
      p = i;
  NNG_CHECK(p >= 0 && p != last, "transpose: no contiguous source dim");
  int others[kMaxRank];
  int no = 0;
  for (int i = 0; i < l.rank; ++i)
    if (i != p && i != last)
      others[no++] = i;
  int64_t outer = 1;
  for (int i = 0; i < no; ++i)
    outer *= l.shape[others[i]];
  const int64_t P = l.shape[p], L = l.shape[last];
  const int64_t yP = l.stride[0][p], xL = l.stride[1][last];
  const int64_t tilesP = (P + kTile - 1) / kTile, tilesL = (L + kTile - 1) / kTile;
  const int64_t items = outer * tilesP * tilesL;
#pragma omp parallel for if (l.numel() >= kParallelMin && items > 1) schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t o = item / (tilesP * tilesL), t = item % (tilesP * tilesL);
    const int64_t p0 = t / tilesL * kTile, l0 = t % tilesL * kTile;
    int64_t off[kMaxOperands] = {};
    detail::addOffsets(l, others, no, o, off);
    const int64_t p1 = std::min(P, p0 + kTile), l1 = std::min(L, l0 + kTile);
    for (int64_t i = p0; i < p1; ++i)
      for (int64_t j = l0; j < l1; ++j)
        y[off[0] + i * yP + j] = x[off[1] + i + j * xL];
  }
}

template <typename T> void transpose_bwd(T *dx, const T *dy, const Dims &xS, const Dims &permAttr) {
  const Dims perm = resolvePerm(permAttr, xS.rank);
  Dims inv, yS;
  inv.rank = yS.rank = xS.rank;
  for (int i = 0; i < xS.rank; ++i) {
    inv[perm[i]] = i;
    yS[i] = xS[perm[i]];
  }
  transpose_fwd(dx, dy, yS, inv);
}

#define NNG_INSTANTIATE_TRANSPOSE(T)                                                               \
  template void transpose_fwd<T>(T *, const T *, const Dims &, const Dims &);                      \
  template void transpose_bwd<T>(T *, const T *, const Dims &, const Dims &);
#define NNG_INSTANTIATE(T)                                                                         \
  NNG_INSTANTIATE_TRANSPOSE(T)                                                                     \
  template void gemm<T>(T *, const T *, const T *, int64_t, int64_t, int64_t, bool, bool, T, T);   \
  template void matmul_fwd<T>(T *, const T *, const T *, const Dims &, const Dims &);              \
  template void matmul_bwd<T>(T *, T *, const T *, const T *, const T *, const Dims &,             \
                              const Dims &);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)
// Integer and bool (uint8_t) tensors move through shape ops too (labels, ids, masks).
NNG_INSTANTIATE_TRANSPOSE(int32_t)
NNG_INSTANTIATE_TRANSPOSE(int64_t)
NNG_INSTANTIATE_TRANSPOSE(uint8_t)

} // namespace nng::cpu
