// CPU linear-algebra kernels: GEMM with transposes, batched matmul with batch
// broadcasting and its gradients, N-d transpose.
#include "core/cpu/kernels/linalg.h"
#include "tests/unit/cpu_testing.h"

#include <string>

#include <omp.h>

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

// c = 2 op(a) op(b) + 0.5 c for every transpose combination, against a naive product.
void expectGemmAllTransposes(int64_t m, int64_t n, int64_t k, double tol) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const Vec a = randomVec(m * k, 1), b = randomVec(k * n, 2);
      Vec c = randomVec(m * n, 3), want(m * n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t p = 0; p < k; ++p)
            s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
          want[i * n + j] = 2 * s + 0.5 * c[i * n + j];
        }
      gemm(c.data(), a.data(), b.data(), m, n, k, ta, tb, 2.0, 0.5);
      expectNear(c, want, tol,
                 "gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                     (ta ? " ta" : "") + (tb ? " tb" : ""));
    }
}

TEST(CpuGemm, AllTransposeCombinations) { expectGemmAllTransposes(5, 7, 3, 1e-14); }

// GEMMs of 4M multiply-adds and more are split into one block of c per thread: by
// columns when m < n, by rows otherwise, in units of 16 that do not divide these sizes
// (200 = 12.5 units: 6 + 6.5 on two threads, 4 + 4 + 4.5 on three); when that
// dimension is too narrow for the threads, OpenBLAS threads the whole product.
TEST(CpuGemm, SplitAcrossThreadsMatchesNaiveProduct) {
  const int saved = omp_get_max_threads();
  for (int threads : {2, 3}) {
    omp_set_num_threads(threads);
    expectGemmAllTransposes(70, 200, 420, 1e-11); // by columns
    expectGemmAllTransposes(200, 70, 420, 1e-11); // by rows
    expectGemmAllTransposes(9, 12, 40000, 1e-10); // too narrow: not split
  }
  omp_set_num_threads(saved);
}

// Naive batched matmul with numpy batch broadcasting.
Vec naiveMatmul(const Vec &a, const Vec &b, const Dims &as, const Dims &bs, Dims &cs) {
  const int64_t M = as[as.rank - 2], K = as[as.rank - 1], N = bs[bs.rank - 1];
  Dims ab, bb;
  ab.rank = as.rank - 2;
  bb.rank = bs.rank - 2;
  for (int i = 0; i < ab.rank; ++i)
    ab[i] = as[i];
  for (int i = 0; i < bb.rank; ++i)
    bb[i] = bs[i];
  Dims ob;
  ob.rank = std::max(ab.rank, bb.rank);
  for (int i = 0; i < ob.rank; ++i) {
    const int ia = i - (ob.rank - ab.rank), ib = i - (ob.rank - bb.rank);
    ob[i] = std::max(ia >= 0 ? ab[ia] : 1, ib >= 0 ? bb[ib] : 1);
  }
  cs = ob;
  cs.rank = ob.rank + 2;
  cs[ob.rank] = M;
  cs[ob.rank + 1] = N;
  Vec c(cs.numel());
  for (int64_t bi = 0; bi < ob.numel(); ++bi) {
    const auto co = testing::coordsOf(bi, ob);
    const int64_t ia = testing::broadcastIndex(co, ab), ib = testing::broadcastIndex(co, bb);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t p = 0; p < K; ++p)
          s += a[(ia * M + i) * K + p] * b[(ib * K + p) * N + j];
        c[(bi * M + i) * N + j] = s;
      }
  }
  return c;
}

std::vector<std::pair<Dims, Dims>> matmulCases() {
  return {
      {{3, 4}, {4, 5}},             // 2-d
      {{2, 3, 4}, {2, 4, 5}},       // batched, same batch
      {{2, 3, 4}, {4, 5}},          // shared right operand (folded)
      {{3, 4}, {2, 4, 5}},          // shared left operand
      {{2, 1, 3, 4}, {3, 4, 2}},    // batch broadcast both ways
      {{1, 3, 4}, {2, 4, 5}},       // size-1 batch on the left
      {{2, 3, 2, 4}, {2, 1, 4, 3}}, // broadcast in the middle of the batch
  };
}

TEST(CpuMatmul, ForwardMatchesNaive) {
  for (const auto &[as, bs] : matmulCases()) {
    const Vec a = randomVec(as.numel(), 1), b = randomVec(bs.numel(), 2);
    Dims cs;
    const Vec want = naiveMatmul(a, b, as, bs, cs);
    Vec c(cs.numel());
    matmul_fwd(c.data(), a.data(), b.data(), as, bs);
    expectNear(c, want, 1e-14, "matmul " + as.str() + " @ " + bs.str());
  }
}

TEST(CpuMatmul, BackwardMatchesFiniteDifferences) {
  for (const auto &[as, bs] : matmulCases()) {
    const Vec a = randomVec(as.numel(), 3), b = randomVec(bs.numel(), 4);
    Dims cs;
    naiveMatmul(a, b, as, bs, cs);
    const Vec dc = randomVec(cs.numel(), 5);
    // Prefill with garbage: the kernel must overwrite, not accumulate.
    Vec da(a.size(), 7.0), db(b.size(), 7.0);
    matmul_bwd(da.data(), db.data(), dc.data(), a.data(), b.data(), as, bs);
    expectGradients(
        [&](const std::vector<Vec> &in) {
          Vec c(cs.numel());
          matmul_fwd(c.data(), in[0].data(), in[1].data(), as, bs);
          return c;
        },
        {a, b}, dc, {da, db}, "matmul " + as.str() + " @ " + bs.str());
  }
}

TEST(CpuMatmul, ManySmallBatchesInParallel) {
  // 256 batches of 8x8x8: the per-batch parallel path.
  const Dims as{256, 8, 8}, bs{256, 8, 8};
  const Vec a = randomVec(as.numel(), 6), b = randomVec(bs.numel(), 7);
  Dims cs;
  const Vec want = naiveMatmul(a, b, as, bs, cs);
  Vec c(cs.numel());
  matmul_fwd(c.data(), a.data(), b.data(), as, bs);
  expectNear(c, want, 1e-13, "batched");
}

TEST(CpuMatmul, FloatAgreesWithDouble) {
  const Dims as{2, 3, 4}, bs{4, 5};
  const Vec a = randomVec(as.numel(), 1), b = randomVec(bs.numel(), 2);
  const auto af = testing::toFloat(a), bf = testing::toFloat(b);
  Vec c(30);
  std::vector<float> cf(30);
  matmul_fwd(c.data(), a.data(), b.data(), as, bs);
  matmul_fwd(cf.data(), af.data(), bf.data(), as, bs);
  for (int i = 0; i < 30; ++i)
    EXPECT_NEAR(cf[i], c[i], 1e-5);
}

Vec naiveTranspose(const Vec &x, const Dims &xs, const Dims &perm, Dims &ys) {
  ys.rank = xs.rank;
  for (int i = 0; i < xs.rank; ++i)
    ys[i] = xs[perm[i]];
  Vec y(x.size());
  for (int64_t i = 0; i < ys.numel(); ++i) {
    const auto cy = testing::coordsOf(i, ys);
    std::vector<int64_t> cx(xs.rank);
    for (int d = 0; d < xs.rank; ++d)
      cx[perm[d]] = cy[d];
    int64_t src = 0;
    for (int d = 0; d < xs.rank; ++d)
      src = src * xs[d] + cx[d];
    y[i] = x[src];
  }
  return y;
}

std::vector<std::pair<Dims, Dims>> transposeCases() {
  return {
      {{3, 4}, {1, 0}},
      {{2, 3, 4}, {0, 2, 1}},
      {{2, 3, 4}, {2, 0, 1}},
      {{2, 3, 4}, {1, 0, 2}}, // innermost stays: copies runs
      {{2, 3, 4, 5}, {3, 1, 2, 0}},
      {{2, 1, 4, 1}, {3, 2, 1, 0}},
      {{70, 45}, {1, 0}},       // several tiles, ragged edges
      {{3, 40, 33}, {0, 2, 1}}, // batched tiles
      {{5}, {0}},
  };
}

TEST(CpuTranspose, ForwardMatchesNaive) {
  for (const auto &[xs, perm] : transposeCases()) {
    const Vec x = randomVec(xs.numel(), 8);
    Dims ys;
    const Vec want = naiveTranspose(x, xs, perm, ys);
    Vec y(x.size());
    transpose_fwd(y.data(), x.data(), xs, perm);
    ASSERT_EQ(y, want) << xs.str() << " perm " << perm.str();
  }
}

TEST(CpuTranspose, BackwardIsTheInversePermutation) {
  for (const auto &[xs, perm] : transposeCases()) {
    const Vec x = randomVec(xs.numel(), 9);
    Dims ys;
    naiveTranspose(x, xs, perm, ys);
    const Vec dy = randomVec(ys.numel(), 10);
    Vec dx(x.size());
    transpose_bwd(dx.data(), dy.data(), xs, perm);
    expectGradients(
        [&](const std::vector<Vec> &in) {
          Vec y(in[0].size());
          transpose_fwd(y.data(), in[0].data(), xs, perm);
          return y;
        },
        {x}, dy, {dx}, "transpose " + xs.str());
  }
}

TEST(CpuTranspose, EmptyPermReversesAndIntegersWork) {
  const Dims xs{2, 3, 4};
  std::vector<int64_t> x(24), y(24);
  for (int64_t i = 0; i < 24; ++i)
    x[i] = i;
  transpose_fwd(y.data(), x.data(), xs, Dims{});
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 4; ++c)
        ASSERT_EQ(y[(c * 3 + b) * 2 + a], x[(a * 3 + b) * 4 + c]);
}

TEST(CpuTranspose, LargeTiledPath) {
  const Dims xs{300, 500}, perm{1, 0};
  const Vec x = randomVec(xs.numel(), 11);
  Vec y(x.size());
  transpose_fwd(y.data(), x.data(), xs, perm);
  for (int64_t i = 0; i < 300; i += 7)
    for (int64_t j = 0; j < 500; j += 13)
      ASSERT_EQ(y[j * 300 + i], x[i * 500 + j]);
}

} // namespace
} // namespace nng::cpu
