// CPU loss kernels: cross entropy (with its label errors), MSE, BCE with logits.
#include <cmath>

#include "core/cpu/kernels/loss.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::randomVec;
using testing::Vec;

double naiveCrossEntropy(const Vec &logits, const std::vector<int64_t> &labels, int64_t c) {
  const int64_t n = int64_t(labels.size());
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < c; ++j)
      s += std::exp(logits[i * c + j]);
    total += -std::log(std::exp(logits[i * c + labels[i]]) / s);
  }
  return total / double(n);
}

TEST(CpuLoss, CrossEntropyForwardAndBackward) {
  const int64_t n = 6, c = 5;
  const Vec logits = randomVec(n * c, 1, -2, 2);
  const std::vector<int64_t> labels = {0, 4, 2, 2, 1, 3};
  double loss;
  cross_entropy_fwd(&loss, logits.data(), labels.data(), n, c);
  EXPECT_NEAR(loss, naiveCrossEntropy(logits, labels, c), 1e-14);

  const double dloss = 0.7;
  Vec d(n * c);
  cross_entropy_bwd(d.data(), &dloss, logits.data(), labels.data(), n, c);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        double l;
        cross_entropy_fwd(&l, in[0].data(), labels.data(), n, c);
        return Vec{l};
      },
      {logits}, {dloss}, {d}, "cross_entropy");
}

TEST(CpuLoss, CrossEntropyWithInt32Labels) {
  const int64_t n = 3, c = 4;
  const Vec logits = randomVec(n * c, 2);
  const std::vector<int32_t> labels32 = {3, 0, 1};
  const std::vector<int64_t> labels64 = {3, 0, 1};
  double a, b;
  cross_entropy_fwd(&a, logits.data(), labels32.data(), n, c);
  cross_entropy_fwd(&b, logits.data(), labels64.data(), n, c);
  EXPECT_EQ(a, b);
}

TEST(CpuLoss, CrossEntropyIsStableForHugeLogits) {
  // Both samples put (almost) all probability on the wrong class.
  const Vec logits = {1000, 0, -1000, 500};
  const std::vector<int64_t> labels = {1, 0};
  double loss;
  cross_entropy_fwd(&loss, logits.data(), labels.data(), 2, 2);
  EXPECT_NEAR(loss, (1000.0 + 1500.0) / 2, 1e-9);
  const double dloss = 1;
  Vec d(4);
  cross_entropy_bwd(d.data(), &dloss, logits.data(), labels.data(), 2, 2);
  // (softmax - onehot) / n: softmax is one-hot on the wrong class.
  EXPECT_EQ(d, (Vec{0.5, -0.5, -0.5, 0.5}));
}

TEST(CpuLoss, LabelOutOfRangeIsAUserError) {
  const Vec logits(4 * 5, 0.0);
  const std::vector<int64_t> labels = {0, 1, 4, 7};
  double loss;
  try {
    cross_entropy_fwd(&loss, logits.data(), labels.data(), 4, 5);
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "label 7 out of range [0, 5) at sample 3");
  }
  const std::vector<int32_t> negative = {-1};
  Vec d(5);
  const double dloss = 1;
  try {
    cross_entropy_bwd(d.data(), &dloss, logits.data(), negative.data(), 1, 5);
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "label -1 out of range [0, 5) at sample 0");
  }
}

TEST(CpuLoss, MeanSquaredError) {
  const int64_t n = 10;
  const Vec p = randomVec(n, 3), t = randomVec(n, 4);
  double loss;
  mse_fwd(&loss, p.data(), t.data(), n);
  double want = 0;
  for (int64_t i = 0; i < n; ++i)
    want += (p[i] - t[i]) * (p[i] - t[i]);
  EXPECT_NEAR(loss, want / n, 1e-15);
  const double dloss = 1.3;
  Vec dp(n), dt(n);
  mse_bwd(dp.data(), dt.data(), &dloss, p.data(), t.data(), n);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        double l;
        mse_fwd(&l, in[0].data(), in[1].data(), n);
        return Vec{l};
      },
      {p, t}, {dloss}, {dp, dt}, "mse");
}

TEST(CpuLoss, BceWithLogits) {
  const int64_t n = 12;
  const Vec x = randomVec(n, 5, -4, 4), t = randomVec(n, 6, 0, 1);
  double loss;
  bce_with_logits_fwd(&loss, x.data(), t.data(), n);
  double want = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double s = 1 / (1 + std::exp(-x[i]));
    want += -(t[i] * std::log(s) + (1 - t[i]) * std::log(1 - s));
  }
  EXPECT_NEAR(loss, want / n, 1e-14);
  const double dloss = 0.9;
  Vec dx(n), dt(n);
  bce_with_logits_bwd(dx.data(), dt.data(), &dloss, x.data(), t.data(), n);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        double l;
        bce_with_logits_fwd(&l, in[0].data(), in[1].data(), n);
        return Vec{l};
      },
      {x, t}, {dloss}, {dx, dt}, "bce_with_logits");
}

TEST(CpuLoss, BceWithLogitsIsStable) {
  const Vec x = {800, -800}, t = {0, 1};
  double loss;
  bce_with_logits_fwd(&loss, x.data(), t.data(), 2);
  EXPECT_NEAR(loss, 800.0, 1e-9); // each sample costs |x|
  const double dloss = 1;
  Vec dx(2);
  bce_with_logits_bwd<double>(dx.data(), nullptr, &dloss, x.data(), t.data(), 2);
  EXPECT_NEAR(dx[0], 0.5, 1e-15);
  EXPECT_NEAR(dx[1], -0.5, 1e-15);
}

} // namespace
} // namespace nng::cpu
