// Determinism of the CPU kernels: inputs big enough for the OpenMP paths give
// bit-identical outputs run after run, and the reductions that promise it give the
// same bits on one thread as on all of them.
#include <cstring>
#include <functional>

#include <omp.h>

#include "core/cpu/kernels/kernels.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::randomVec;
using FVec = std::vector<float>;

FVec randomF(int64_t n, uint64_t seed) { return testing::toFloat(randomVec(n, seed)); }

bool sameBits(const FVec &a, const FVec &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs f (which fills its output) twice on the default thread count, and once on a
// single thread when threadIndependent; every result must have the same bits.
void expectDeterministic(const std::function<FVec()> &f, const char *what, bool threadIndependent) {
  const FVec first = f();
  EXPECT_TRUE(sameBits(first, f())) << what << ": two runs differ";
  if (threadIndependent) {
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const FVec single = f();
    omp_set_num_threads(threads);
    EXPECT_TRUE(sameBits(first, single)) << what << ": 1 thread differs from " << threads;
  }
}

// Every size below is past kParallelMin (common.h), so the loops do run in parallel.
TEST(CpuDeterminism, Reductions) {
  const Dims xs{1024, 1000};
  ASSERT_GT(xs.numel(), 2 * kParallelMin);
  const FVec x = randomF(xs.numel(), 1);
  expectDeterministic(
      [&] {
        FVec out(1 + 1024 + 1000);
        sum_fwd(out.data(), x.data(), xs, reduceMask(xs, {}));
        sum_fwd(out.data() + 1, x.data(), xs, reduceMask(xs, {1}));
        mean_fwd(out.data() + 1025, x.data(), xs, reduceMask(xs, {0}));
        return out;
      },
      "sum/mean", true);
  expectDeterministic(
      [&] {
        FVec out(x.size());
        softmax_fwd(out.data(), x.data(), 256, 1000, 1);
        return out;
      },
      "softmax", true);
}

TEST(CpuDeterminism, BroadcastGradient) {
  const Dims as{1024, 300}, bs{300};
  ASSERT_GT(as.numel(), kParallelMin);
  const FVec a = randomF(as.numel(), 2), b = randomF(bs.numel(), 3), g = randomF(as.numel(), 4);
  expectDeterministic(
      [&] {
        FVec da(a.size()), db(b.size());
        mul_bwd(da.data(), db.data(), g.data(), a.data(), b.data(), as, bs);
        da.insert(da.end(), db.begin(), db.end());
        return da;
      },
      "mul_bwd", true);
}

TEST(CpuDeterminism, LossesAndNorms) {
  const int64_t n = 4096, c = 100;
  ASSERT_GT(n * c, kParallelMin);
  const FVec logits = randomF(n * c, 5);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i)
    labels[i] = (i * 37) % c;
  expectDeterministic(
      [&] {
        FVec out(1 + n * c);
        cross_entropy_fwd(out.data(), logits.data(), labels.data(), n, c);
        const float one = 1;
        cross_entropy_bwd(out.data() + 1, &one, logits.data(), labels.data(), n, c);
        return out;
      },
      "cross_entropy", true);
  const FVec gamma = randomF(c, 6), beta = randomF(c, 7), dy = randomF(n * c, 8);
  expectDeterministic(
      [&] {
        FVec y(n * c), dx(n * c), dg(c), db(c);
        layer_norm_fwd<float>(y.data(), nullptr, nullptr, logits.data(), gamma.data(), beta.data(),
                              n, c, 1e-5);
        layer_norm_bwd<float>(dx.data(), dg.data(), db.data(), dy.data(), logits.data(),
                              gamma.data(), nullptr, nullptr, n, c, 1e-5);
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), dg.begin(), dg.end());
        return y;
      },
      "layer_norm", true);
  // Batch norm over [64, 100, 64]: channels are the middle axis.
  const int64_t bn = 64, hw = 64;
  ASSERT_GT(bn * c * hw, kParallelMin);
  const FVec x = randomF(bn * c * hw, 9), g2 = randomF(bn * c * hw, 10);
  expectDeterministic(
      [&] {
        FVec y(x.size()), rm(c, 0.f), rv(c, 1.f), dx(x.size()), dg(c), db(c);
        batch_norm_train_fwd<float>(y.data(), nullptr, nullptr, rm.data(), rv.data(), x.data(),
                                    gamma.data(), beta.data(), bn, c, hw, 1e-5, 0.1);
        batch_norm_bwd<float>(dx.data(), dg.data(), db.data(), g2.data(), x.data(), gamma.data(),
                              nullptr, nullptr, bn, c, hw, 1e-5);
        for (const FVec *v : {&rm, &rv, &dx, &dg})
          y.insert(y.end(), v->begin(), v->end());
        return y;
      },
      "batch_norm", true);
}

TEST(CpuDeterminism, GemmConvAndDropout) {
  const Dims as{8, 64, 96}, bs{96, 80};
  const FVec a = randomF(as.numel(), 11), b = randomF(bs.numel(), 12);
  const FVec dc = randomF(8 * 64 * 80, 13);
  expectDeterministic(
      [&] {
        FVec c(8 * 64 * 80), da(a.size()), db(b.size());
        matmul_fwd(c.data(), a.data(), b.data(), as, bs);
        matmul_bwd(da.data(), db.data(), dc.data(), a.data(), b.data(), as, bs);
        c.insert(c.end(), da.begin(), da.end());
        c.insert(c.end(), db.begin(), db.end());
        return c;
      },
      "matmul", false);
  const int64_t n = 16, ch = 8, h = 20, w = 20, f = 12, k = 3;
  const FVec x = randomF(n * ch * h * w, 14), wt = randomF(f * ch * k * k, 15);
  const FVec dy = randomF(n * f * h * w, 16);
  expectDeterministic(
      [&] {
        FVec y(n * f * h * w), dx(x.size()), dw(wt.size());
        FVec ws(conv2d_workspace_size(n, ch, h, w, f, k, k, 1, 1));
        conv2d_fwd(y.data(), x.data(), wt.data(), n, ch, h, w, f, k, k, 1, 1, ws.data());
        conv2d_bwd(dx.data(), dw.data(), dy.data(), x.data(), wt.data(), n, ch, h, w, f, k, k, 1, 1,
                   ws.data());
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), dw.begin(), dw.end());
        return y;
      },
      "conv2d", false);
  expectDeterministic(
      [&] {
        FVec y(x.size());
        dropout_fwd<float>(y.data(), nullptr, x.data(), int64_t(x.size()), 0.25, 3, 4);
        return y;
      },
      "dropout", true);
}

} // namespace
} // namespace nng::cpu
