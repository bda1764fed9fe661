// CPU normalization kernels: batch norm (train statistics, running-stat updates, eval
// mode, backward) and layer norm, against naive references and finite differences.
#include <cmath>

#include "core/cpu/kernels/norm.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

constexpr double kEps = 1e-5;

struct BnCase {
  int64_t n, c, hw;
};

TEST(CpuBatchNorm, TrainForwardAndRunningStats) {
  for (const BnCase &b : {BnCase{4, 3, 5}, BnCase{6, 2, 1}}) {
    const int64_t total = b.n * b.c * b.hw, m = b.n * b.hw;
    const Vec x = randomVec(total, 1, -2, 3), gamma = randomVec(b.c, 2), beta = randomVec(b.c, 3);
    Vec rm = randomVec(b.c, 4), rv = randomVec(b.c, 5, 0.5, 2);
    const Vec rm0 = rm, rv0 = rv;
    Vec y(total), mean(b.c), invStd(b.c);
    batch_norm_train_fwd(y.data(), mean.data(), invStd.data(), rm.data(), rv.data(), x.data(),
                         gamma.data(), beta.data(), b.n, b.c, b.hw, kEps, 0.1);
    for (int64_t ch = 0; ch < b.c; ++ch) {
      double s = 0, q = 0;
      for (int64_t i = 0; i < b.n; ++i)
        for (int64_t j = 0; j < b.hw; ++j)
          s += x[(i * b.c + ch) * b.hw + j];
      const double mu = s / double(m);
      for (int64_t i = 0; i < b.n; ++i)
        for (int64_t j = 0; j < b.hw; ++j) {
          const double d = x[(i * b.c + ch) * b.hw + j] - mu;
          q += d * d;
        }
      const double var = q / double(m);
      EXPECT_NEAR(mean[ch], mu, 1e-14);
      EXPECT_NEAR(invStd[ch], 1 / std::sqrt(var + kEps), 1e-12);
      EXPECT_NEAR(rm[ch], 0.9 * rm0[ch] + 0.1 * mu, 1e-14);
      EXPECT_NEAR(rv[ch], 0.9 * rv0[ch] + 0.1 * var * double(m) / double(m - 1), 1e-14);
      for (int64_t i = 0; i < b.n; ++i)
        for (int64_t j = 0; j < b.hw; ++j) {
          const int64_t at = (i * b.c + ch) * b.hw + j;
          EXPECT_NEAR(y[at], gamma[ch] * (x[at] - mu) / std::sqrt(var + kEps) + beta[ch], 1e-12);
        }
    }
  }
}

TEST(CpuBatchNorm, EvalUsesRunningStats) {
  const int64_t n = 2, c = 3, hw = 4, total = n * c * hw;
  const Vec x = randomVec(total, 1), gamma = randomVec(c, 2), beta = randomVec(c, 3);
  const Vec rm = randomVec(c, 4), rv = randomVec(c, 5, 0.5, 2);
  Vec y(total);
  batch_norm_eval_fwd(y.data(), x.data(), gamma.data(), beta.data(), rm.data(), rv.data(), n, c, hw,
                      kEps);
  for (int64_t at = 0; at < total; ++at) {
    const int64_t ch = at / hw % c;
    EXPECT_NEAR(y[at], gamma[ch] * (x[at] - rm[ch]) / std::sqrt(rv[ch] + kEps) + beta[ch], 1e-13);
  }
}

TEST(CpuBatchNorm, BackwardMatchesFiniteDifferences) {
  for (const BnCase &b : {BnCase{4, 3, 5}, BnCase{5, 2, 1}}) {
    const int64_t total = b.n * b.c * b.hw;
    const Vec x = randomVec(total, 6, -2, 3), gamma = randomVec(b.c, 7), beta = randomVec(b.c, 8);
    const Vec dy = randomVec(total, 9);
    auto forward = [&](const std::vector<Vec> &in) {
      Vec y(total);
      batch_norm_train_fwd<double>(y.data(), nullptr, nullptr, nullptr, nullptr, in[0].data(),
                                   in[1].data(), in[2].data(), b.n, b.c, b.hw, kEps, 0.1);
      return y;
    };
    Vec y(total), mean(b.c), invStd(b.c);
    batch_norm_train_fwd<double>(y.data(), mean.data(), invStd.data(), nullptr, nullptr, x.data(),
                                 gamma.data(), beta.data(), b.n, b.c, b.hw, kEps, 0.1);
    for (bool saved : {true, false}) {
      Vec dx(total), dg(b.c), db(b.c);
      batch_norm_bwd(dx.data(), dg.data(), db.data(), dy.data(), x.data(), gamma.data(),
                     saved ? mean.data() : nullptr, saved ? invStd.data() : nullptr, b.n, b.c, b.hw,
                     kEps);
      expectGradients(forward, {x, gamma, beta}, dy, {dx, dg, db},
                      saved ? "batch_norm (saved stats)" : "batch_norm (recomputed stats)");
    }
  }
}

TEST(CpuBatchNorm, OneValuePerChannelIsAUserError) {
  const Vec x = {1, 2}, g = {1, 1}, b = {0, 0};
  Vec y(2);
  EXPECT_THROW(batch_norm_train_fwd<double>(y.data(), nullptr, nullptr, nullptr, nullptr, x.data(),
                                            g.data(), b.data(), 1, 2, 1, kEps, 0.1),
               UserError);
}

TEST(CpuLayerNorm, ForwardAndBackward) {
  for (int64_t cols : {7, 300}) { // 300: several column blocks in the gamma/beta sums
    const int64_t rows = 3, total = rows * cols;
    const Vec x = randomVec(total, 1, -2, 3), gamma = randomVec(cols, 2), beta = randomVec(cols, 3);
    Vec y(total), mean(rows), rstd(rows);
    layer_norm_fwd(y.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), rows,
                   cols, kEps);
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0, q = 0;
      for (int64_t j = 0; j < cols; ++j)
        s += x[r * cols + j];
      const double mu = s / double(cols);
      for (int64_t j = 0; j < cols; ++j)
        q += (x[r * cols + j] - mu) * (x[r * cols + j] - mu);
      const double rs = 1 / std::sqrt(q / double(cols) + kEps);
      EXPECT_NEAR(mean[r], mu, 1e-14);
      EXPECT_NEAR(rstd[r], rs, 1e-12);
      for (int64_t j = 0; j < cols; ++j)
        EXPECT_NEAR(y[r * cols + j], (x[r * cols + j] - mu) * rs * gamma[j] + beta[j], 1e-13);
    }
    const Vec dy = randomVec(total, 4);
    for (bool saved : {true, false}) {
      Vec dx(total), dg(cols), db(cols);
      layer_norm_bwd(dx.data(), dg.data(), db.data(), dy.data(), x.data(), gamma.data(),
                     saved ? mean.data() : nullptr, saved ? rstd.data() : nullptr, rows, cols,
                     kEps);
      expectGradients(
          [&](const std::vector<Vec> &in) {
            Vec out(total);
            layer_norm_fwd<double>(out.data(), nullptr, nullptr, in[0].data(), in[1].data(),
                                   in[2].data(), rows, cols, kEps);
            return out;
          },
          {x, gamma, beta}, dy, {dx, dg, db}, "layer_norm");
    }
  }
}

} // namespace
} // namespace nng::cpu
