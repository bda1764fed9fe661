// CPU layer kernels: dropout's counter-based mask, embedding gather/scatter, and the
// fused dense layer against its unfused definition and finite differences.
#include <cmath>

#include "core/cpu/kernels/elementwise.h"
#include "core/cpu/kernels/nn.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

// ---- dropout ---------------------------------------------------------------------------

TEST(CpuDropout, Mix64IsSplitMix64) {
  // SplitMix64 seeded with 0: the first two outputs (reference values of the generator).
  EXPECT_EQ(mix64(kGolden), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(mix64(2 * kGolden), 0x6E789E6AA1B965F4ull);
}

TEST(CpuDropout, MaskRateScaleAndBackward) {
  const int64_t n = 200000;
  const double p = 0.3;
  const Vec x = randomVec(n, 1, 0.5, 1.5), dy = randomVec(n, 2);
  Vec y(n), dx(n);
  std::vector<uint8_t> mask(n);
  dropout_fwd(y.data(), mask.data(), x.data(), n, p, 42, 7);
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (mask[i]) {
      ASSERT_EQ(y[i], x[i] * (1 / (1 - p)));
    } else {
      ASSERT_EQ(y[i], 0.0);
      ++dropped;
    }
  }
  EXPECT_NEAR(double(dropped) / n, p, 0.005);
  dropout_bwd(dx.data(), dy.data(), n, p, 42, 7);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(dx[i], mask[i] ? dy[i] * (1 / (1 - p)) : 0.0);
}

TEST(CpuDropout, MaskDependsOnSeedAndStepOnly) {
  const int64_t n = 1000;
  const Vec x(n, 1.0);
  Vec a(n), b(n), c(n), d(n);
  dropout_fwd<double>(a.data(), nullptr, x.data(), n, 0.5, 1, 1);
  dropout_fwd<double>(b.data(), nullptr, x.data(), n, 0.5, 1, 1);
  dropout_fwd<double>(c.data(), nullptr, x.data(), n, 0.5, 1, 2);
  dropout_fwd<double>(d.data(), nullptr, x.data(), n, 0.5, 2, 1);
  EXPECT_EQ(a, b);
  int64_t diffStep = 0, diffSeed = 0;
  for (int64_t i = 0; i < n; ++i) {
    diffStep += a[i] != c[i];
    diffSeed += a[i] != d[i];
  }
  EXPECT_GT(diffStep, n / 4); // independent masks differ in about half the places
  EXPECT_GT(diffSeed, n / 4);
  EXPECT_NE(dropoutSeed(1, 0), dropoutSeed(1, 1));
}

TEST(CpuDropout, MaskIsPinned) {
  // The mask is part of the format a GPU twin must reproduce: these bits may only
  // change together with every other implementation of the RNG.
  const uint64_t key = dropoutKey(42, 7);
  const uint32_t t = dropoutThreshold(0.5);
  EXPECT_EQ(t, 1u << 23);
  std::string bits;
  for (uint64_t i = 0; i < 32; ++i)
    bits += dropoutKeep(key, i, t) ? '1' : '0';
  // Recomputed independently (Python, from the formula in nn.h).
  EXPECT_EQ(bits, "11010110110111100101110100001001");
}

TEST(CpuDropout, ZeroProbabilityCopies) {
  const Vec x = randomVec(100, 3);
  Vec y(100);
  dropout_fwd<double>(y.data(), nullptr, x.data(), 100, 0.0, 5, 5);
  EXPECT_EQ(y, x);
}

// ---- embedding -------------------------------------------------------------------------

TEST(CpuEmbedding, GatherAndScatterAdd) {
  const int64_t vocab = 5, dim = 3;
  const Vec w = randomVec(vocab * dim, 4);
  const std::vector<int64_t> ids = {2, 0, 2, 4};
  Vec y(ids.size() * dim);
  embedding_fwd(y.data(), ids.data(), w.data(), int64_t(ids.size()), vocab, dim);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < dim; ++j)
      ASSERT_EQ(y[i * dim + j], w[ids[i] * dim + j]);
  const Vec dy = randomVec(y.size(), 5);
  Vec dw(w.size(), 8.0);
  embedding_bwd(dw.data(), dy.data(), ids.data(), int64_t(ids.size()), vocab, dim);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        Vec out(y.size());
        embedding_fwd(out.data(), ids.data(), in[0].data(), int64_t(ids.size()), vocab, dim);
        return out;
      },
      {w}, dy, {dw}, "embedding");
  EXPECT_EQ(dw[1 * dim], 0.0); // id 1 never used
}

TEST(CpuEmbedding, WideRowsAndInt32Ids) {
  const int64_t vocab = 4, dim = 300; // several column blocks in the backward
  const std::vector<int32_t> ids = {3, 3, 1};
  const Vec dy = randomVec(ids.size() * dim, 6);
  Vec dw(vocab * dim);
  embedding_bwd(dw.data(), dy.data(), ids.data(), 3, vocab, dim);
  for (int64_t j = 0; j < dim; ++j) {
    ASSERT_EQ(dw[3 * dim + j], dy[j] + dy[dim + j]);
    ASSERT_EQ(dw[1 * dim + j], dy[2 * dim + j]);
  }
}

TEST(CpuEmbedding, IdOutOfRangeIsAUserError) {
  const Vec w(10 * 2, 0.0);
  const std::vector<int64_t> ids = {1, 2, 3, 12};
  Vec y(8);
  try {
    embedding_fwd(y.data(), ids.data(), w.data(), 4, 10, 2);
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "embedding id 12 out of range [0, 10) at position 3");
  }
}

// ---- fused dense -----------------------------------------------------------------------

struct ActCase {
  Activation act;
  const char *name;
};
const ActCase kActs[] = {{Activation::None, "none"},
                         {Activation::Relu, "relu"},
                         {Activation::Gelu, "gelu"},
                         {Activation::Sigmoid, "sigmoid"},
                         {Activation::Tanh, "tanh"}};

// The unfused definition through the elementwise kernels.
Vec unfusedDense(const Vec &x, const Vec &w, const Vec &b, int64_t m, int64_t k, int64_t n,
                 Activation act) {
  Vec z(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = b[j];
      for (int64_t p = 0; p < k; ++p)
        s += x[i * k + p] * w[p * n + j];
      z[i * n + j] = s;
    }
  Vec y(m * n);
  switch (act) {
  case Activation::None:
    return z;
  case Activation::Relu:
    relu_fwd(y.data(), z.data(), m * n);
    break;
  case Activation::Gelu:
    gelu_fwd(y.data(), z.data(), m * n);
    break;
  case Activation::Sigmoid:
    sigmoid_fwd(y.data(), z.data(), m * n);
    break;
  case Activation::Tanh:
    tanh_fwd(y.data(), z.data(), m * n);
    break;
  }
  return y;
}

TEST(CpuFusedDense, ForwardMatchesUnfused) {
  const int64_t m = 6, k = 5, n = 4;
  const Vec x = randomVec(m * k, 1), w = randomVec(k * n, 2), b = randomVec(n, 3);
  for (const ActCase &a : kActs) {
    Vec y(m * n), z(m * n);
    fused_dense_fwd(y.data(), z.data(), x.data(), w.data(), b.data(), m, k, n, a.act);
    expectNear(y, unfusedDense(x, w, b, m, k, n, a.act), 1e-14, a.name);
    expectNear(z, unfusedDense(x, w, b, m, k, n, Activation::None), 1e-14, "preact");
  }
}

TEST(CpuFusedDense, BackwardMatchesFiniteDifferences) {
  for (int64_t n : {4, 200}) { // 200: several column blocks for the bias gradient
    const int64_t m = 6, k = 5;
    const Vec x = randomVec(m * k, 4), w = randomVec(k * n, 5), b = randomVec(n, 6);
    const Vec dy = randomVec(m * n, 7);
    for (const ActCase &a : kActs) {
      Vec y(m * n), z(m * n), ws(m * n);
      fused_dense_fwd(y.data(), z.data(), x.data(), w.data(), b.data(), m, k, n, a.act);
      Vec dx(x.size()), dw(w.size()), db(b.size());
      fused_dense_bwd(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), b.data(),
                      y.data(), z.data(), m, k, n, a.act, ws.data());
      // Without the saved pre-activation (gelu recomputes it): the same gradients.
      Vec dx2(x.size()), dw2(w.size()), db2(b.size());
      fused_dense_bwd<double>(dx2.data(), dw2.data(), db2.data(), dy.data(), x.data(), w.data(),
                              b.data(), y.data(), nullptr, m, k, n, a.act, ws.data());
      EXPECT_EQ(dx, dx2) << a.name;
      EXPECT_EQ(dw, dw2) << a.name;
      EXPECT_EQ(db, db2) << a.name;
      // The signature without b (preact given): the same gradients.
      Vec dx3(x.size()), dw3(w.size()), db3(b.size());
      fused_dense_bwd(dx3.data(), dw3.data(), db3.data(), dy.data(), x.data(), w.data(), y.data(),
                      z.data(), m, k, n, a.act, ws.data());
      EXPECT_EQ(dx, dx3) << a.name;
      EXPECT_EQ(dw, dw3) << a.name;
      expectGradients(
          [&](const std::vector<Vec> &in) {
            Vec out(m * n);
            fused_dense_fwd<double>(out.data(), nullptr, in[0].data(), in[1].data(), in[2].data(),
                                    m, k, n, a.act);
            return out;
          },
          {x, w, b}, dy, {dx, dw, db}, std::string("fused_dense ") + a.name);
    }
  }
}

TEST(CpuFusedDense, WithoutBias) {
  const int64_t m = 3, k = 2, n = 2;
  const Vec x = randomVec(m * k, 1), w = randomVec(k * n, 2), zero(n, 0.0);
  Vec y(m * n);
  fused_dense_fwd<double>(y.data(), nullptr, x.data(), w.data(), nullptr, m, k, n,
                          Activation::Relu);
  expectNear(y, unfusedDense(x, w, zero, m, k, n, Activation::Relu), 1e-15, "no bias");
}

} // namespace
} // namespace nng::cpu
