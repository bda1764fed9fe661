// CPU optimizer kernels: two steps of SGD (plain, momentum, nesterov, dampening, weight
// decay), Adam and AdamW against hand-computed values; global-norm clipping.
#include <cmath>

#include "core/cpu/kernels/optim.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::Vec;

// Every case starts at p = 1 and sees the gradients 0.5, then -0.25 (a second element
// with a different start checks that elements are independent).
struct Trajectory {
  double p;
  double state1;
};

template <typename Step> Trajectory twoSteps(Step step) {
  Vec p = {1.0, -2.0}, s1 = {0.0, 0.0}, s2 = {0.0, 0.0};
  const Vec g1 = {0.5, 0.0}, g2 = {-0.25, 0.0};
  step(p.data(), s1.data(), s2.data(), g1.data(), 1);
  step(p.data(), s1.data(), s2.data(), g2.data(), 2);
  return {p[0], s1[0]};
}

TEST(CpuOptim, SgdPlain) {
  // 1 - 0.1 * 0.5 = 0.95; 0.95 + 0.1 * 0.25 = 0.975.
  const Trajectory r = twoSteps([](double *p, double *, double *, const double *g, int64_t t) {
    sgd_step<double>(p, nullptr, g, 2, t, 0.1, 0, 0, 0, false);
  });
  EXPECT_NEAR(r.p, 0.975, 1e-15);
}

TEST(CpuOptim, SgdMomentum) {
  // buf = 0.5 (first step), p = 0.95; buf = 0.9 * 0.5 - 0.25 = 0.2, p = 0.95 - 0.02.
  const Trajectory r = twoSteps([](double *p, double *b, double *, const double *g, int64_t t) {
    sgd_step(p, b, g, 2, t, 0.1, 0.9, 0, 0, false);
  });
  EXPECT_NEAR(r.p, 0.93, 1e-15);
  EXPECT_NEAR(r.state1, 0.2, 1e-15);
}

TEST(CpuOptim, SgdNesterovWithWeightDecay) {
  // Step 1: g = 0.5 + 0.01 = 0.51, buf = 0.51, g' = 0.51 + 0.9 * 0.51 = 0.969,
  //         p = 1 - 0.0969 = 0.9031.
  // Step 2: g = -0.25 + 0.01 * 0.9031 = -0.240969, buf = 0.459 - 0.240969 = 0.218031,
  //         g' = -0.240969 + 0.9 * 0.218031 = -0.0447411, p = 0.9031 + 0.00447411.
  const Trajectory r = twoSteps([](double *p, double *b, double *, const double *g, int64_t t) {
    sgd_step(p, b, g, 2, t, 0.1, 0.9, 0, 0.01, true);
  });
  EXPECT_NEAR(r.p, 0.90757411, 1e-14);
  EXPECT_NEAR(r.state1, 0.218031, 1e-14);
}

TEST(CpuOptim, SgdDampeningSkipsTheFirstStep) {
  // buf = 0.5 undamped at step 1; then 0.45 + 0.5 * -0.25 = 0.325; p = 0.95 - 0.0325.
  const Trajectory r = twoSteps([](double *p, double *b, double *, const double *g, int64_t t) {
    sgd_step(p, b, g, 2, t, 0.1, 0.9, 0.5, 0, false);
  });
  EXPECT_NEAR(r.p, 0.9175, 1e-15);
  EXPECT_NEAR(r.state1, 0.325, 1e-15);
}

TEST(CpuOptim, AdamTwoSteps) {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8.
  // Step 1: m = 0.05, v = 0.00025, bias corrections 0.1 and 0.001: the step is
  //         lr * 0.5 / (0.5 + 1e-8), p = 0.900000002.
  // Step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
  //         p -= 0.1 / 0.19 * 0.02 / (sqrt(0.00031225 / 0.001999) + 1e-8).
  const Trajectory r = twoSteps([](double *p, double *m, double *v, const double *g, int64_t t) {
    adam_step(p, m, v, g, 2, t, 0.1, 0.9, 0.999, 1e-8, 0.0);
  });
  const double p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8);
  const double p2 = p1 - 0.1 / 0.19 * 0.02 / (std::sqrt(0.00031225 / 0.001999) + 1e-8);
  EXPECT_NEAR(r.p, p2, 1e-15);
  EXPECT_NEAR(r.p, 0.8733662987078463, 1e-15);
  EXPECT_NEAR(r.state1, 0.02, 1e-16);
}

TEST(CpuOptim, AdamFirstStepMovesByTheLearningRate) {
  Vec p = {3.0}, m = {0}, v = {0};
  const Vec g = {-123.0};
  adam_step(p.data(), m.data(), v.data(), g.data(), 1, 1, 0.01, 0.9, 0.999, 1e-8, 0.0);
  EXPECT_NEAR(p[0], 3.01, 1e-9);
}

TEST(CpuOptim, AdamL2AndAdamWDecoupled) {
  // Adam's weight decay enters the gradient (g + 0.1 p); AdamW's scales p by
  // 1 - lr * 0.1 before the plain Adam update. Values from the formulas in optim.h.
  const Trajectory l2 = twoSteps([](double *p, double *m, double *v, const double *g, int64_t t) {
    adam_step(p, m, v, g, 2, t, 0.1, 0.9, 0.999, 1e-8, 0.1);
  });
  EXPECT_NEAR(l2.p, 0.8544413674617625, 1e-14);
  EXPECT_NEAR(l2.state1, 0.038000000016666650, 1e-14); // 0.9 * 0.06 + 0.1 * (-0.25 + 0.09)
  const Trajectory w = twoSteps([](double *p, double *m, double *v, const double *g, int64_t t) {
    adamw_step(p, m, v, g, 2, t, 0.1, 0.9, 0.999, 1e-8, 0.1);
  });
  EXPECT_NEAR(w.p, 0.8544662986878463, 1e-14);
  EXPECT_NEAR(w.state1, 0.02, 1e-16); // decay does not touch the moments
  // AdamW = decay, then the same update as plain Adam: p2(AdamW) differs from plain
  // Adam's p2 by the two decays (0.99 and 0.99 * p1).
  const double p1 = 0.99 * 1.0 - 0.1 * 0.5 / (0.5 + 1e-8);
  EXPECT_NEAR(w.p, 0.99 * p1 - 0.1 / 0.19 * 0.02 / (std::sqrt(0.00031225 / 0.001999) + 1e-8),
              1e-15);
}

TEST(CpuOptim, FloatStepAgreesWithDouble) {
  Vec p = {1.0}, m = {0}, v = {0};
  std::vector<float> pf = {1.0f}, mf = {0}, vf = {0};
  const Vec g = {0.5};
  const std::vector<float> gf = {0.5f};
  for (int64_t t = 1; t <= 3; ++t) {
    adamw_step(p.data(), m.data(), v.data(), g.data(), 1, t, 1e-3, 0.9, 0.999, 1e-8, 0.01);
    adamw_step(pf.data(), mf.data(), vf.data(), gf.data(), 1, t, 1e-3, 0.9, 0.999, 1e-8, 0.01);
  }
  EXPECT_NEAR(pf[0], p[0], 1e-6);
}

TEST(CpuOptim, ClipGradNorm) {
  Vec a = {3.0}, b = {0.0, 4.0};
  double *grads[] = {a.data(), b.data()};
  const int64_t sizes[] = {1, 2};
  EXPECT_NEAR(grad_global_norm<double>(grads, sizes, 2), 5.0, 1e-15);
  // Under the limit: untouched.
  EXPECT_NEAR(clip_grad_norm(grads, sizes, 2, 10.0), 5.0, 1e-15);
  EXPECT_EQ(a[0], 3.0);
  // Over it: scaled by max / (norm + 1e-6).
  EXPECT_NEAR(clip_grad_norm(grads, sizes, 2, 1.0), 5.0, 1e-15);
  const double k = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(a[0], 3 * k, 1e-15);
  EXPECT_NEAR(b[1], 4 * k, 1e-15);
}

} // namespace
} // namespace nng::cpu
