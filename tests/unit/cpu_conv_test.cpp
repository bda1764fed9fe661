// CPU convolution and pooling kernels: conv2d against a naive direct convolution,
// pooling against naive windows, all gradients against finite differences.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cpu/kernels/conv.h"
#include "core/cpu/kernels/scalar_math.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

struct ConvCase {
  int64_t n, c, h, w, f, kh, kw, stride, pad;
  int64_t oh() const { return convOutSize(h, kh, stride, pad); }
  int64_t ow() const { return convOutSize(w, kw, stride, pad); }
  int64_t xSize() const { return n * c * h * w; }
  int64_t wSize() const { return f * c * kh * kw; }
  int64_t ySize() const { return n * f * oh() * ow(); }
  std::string str() const {
    return "n" + std::to_string(n) + " c" + std::to_string(c) + " " + std::to_string(h) + "x" +
           std::to_string(w) + " f" + std::to_string(f) + " k" + std::to_string(kh) + "x" +
           std::to_string(kw) + " s" + std::to_string(stride) + " p" + std::to_string(pad);
  }
};

std::vector<ConvCase> convCases() {
  return {
      {2, 3, 5, 6, 4, 3, 3, 1, 1}, // same padding
      {3, 2, 7, 5, 2, 3, 2, 2, 0}, // stride 2, non-square kernel
      {1, 1, 4, 4, 1, 1, 1, 1, 0}, // 1x1
      {4, 2, 6, 6, 3, 5, 5, 2, 2}, // more images than threads: the parallel path
      {2, 2, 5, 4, 3, 2, 3, 3, 1}, // stride larger than the kernel in one direction
      {2, 2, 4, 2, 3, 5, 5, 1, 2}, // same padding, taps shifted past the whole width
      {1, 2, 2, 3, 2, 5, 3, 1, 2}, // same width, a kernel taller than the padded rows need
      {3, 8, 6, 5, 4, 3, 3, 1, 1}, // 72 col rows: dweight from the transposed dz
  };
}

Vec naiveConv(const ConvCase &k, const Vec &x, const Vec &w) {
  Vec y(k.ySize(), 0.0);
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t f = 0; f < k.f; ++f)
      for (int64_t oy = 0; oy < k.oh(); ++oy)
        for (int64_t ox = 0; ox < k.ow(); ++ox) {
          double s = 0;
          for (int64_t c = 0; c < k.c; ++c)
            for (int64_t a = 0; a < k.kh; ++a)
              for (int64_t b = 0; b < k.kw; ++b) {
                const int64_t iy = oy * k.stride - k.pad + a, ix = ox * k.stride - k.pad + b;
                if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w)
                  continue;
                s += x[((i * k.c + c) * k.h + iy) * k.w + ix] *
                     w[((f * k.c + c) * k.kh + a) * k.kw + b];
              }
          y[((i * k.f + f) * k.oh() + oy) * k.ow() + ox] = s;
        }
  return y;
}

Vec runConv(const ConvCase &k, const Vec &x, const Vec &w) {
  Vec y(k.ySize());
  Vec ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
  conv2d_fwd(y.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad,
             ws.data());
  return y;
}

TEST(CpuConv, ForwardMatchesDirectConvolution) {
  for (const ConvCase &k : convCases()) {
    const Vec x = randomVec(k.xSize(), 1), w = randomVec(k.wSize(), 2);
    expectNear(runConv(k, x, w), naiveConv(k, x, w), 1e-14, k.str());
  }
}

TEST(CpuConv, LargeBatchRunsImagesInParallel) {
  const ConvCase k{8, 4, 12, 12, 6, 3, 3, 1, 1};
  const Vec x = randomVec(k.xSize(), 1), w = randomVec(k.wSize(), 2);
  expectNear(runConv(k, x, w), naiveConv(k, x, w), 1e-13, k.str());
}

TEST(CpuConv, BackwardMatchesFiniteDifferences) {
  for (const ConvCase &k : convCases()) {
    const Vec x = randomVec(k.xSize(), 3), w = randomVec(k.wSize(), 4);
    const Vec dy = randomVec(k.ySize(), 5);
    Vec dx(x.size(), 3.0), dw(w.size(), 3.0);
    Vec ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
    conv2d_bwd(dx.data(), dw.data(), dy.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f, k.kh,
               k.kw, k.stride, k.pad, ws.data());
    expectGradients([&](const std::vector<Vec> &in) { return runConv(k, in[0], in[1]); }, {x, w},
                    dy, {dx, dw}, k.str());
  }
}

// The backward by its definition: every (output, weight) pair's contribution.
void naiveConvBwd(const ConvCase &k, const Vec &x, const Vec &w, const Vec &dy, Vec &dx, Vec &dw) {
  dx.assign(k.xSize(), 0.0);
  dw.assign(k.wSize(), 0.0);
  for (int64_t i = 0; i < k.n; ++i)
    for (int64_t f = 0; f < k.f; ++f)
      for (int64_t oy = 0; oy < k.oh(); ++oy)
        for (int64_t ox = 0; ox < k.ow(); ++ox) {
          const double g = dy[((i * k.f + f) * k.oh() + oy) * k.ow() + ox];
          for (int64_t c = 0; c < k.c; ++c)
            for (int64_t a = 0; a < k.kh; ++a)
              for (int64_t b = 0; b < k.kw; ++b) {
                const int64_t iy = oy * k.stride - k.pad + a, ix = ox * k.stride - k.pad + b;
                if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w)
                  continue;
                const int64_t xi = ((i * k.c + c) * k.h + iy) * k.w + ix;
                const int64_t wi = ((f * k.c + c) * k.kh + a) * k.kw + b;
                dx[xi] += g * w[wi];
                dw[wi] += g * x[xi];
              }
        }
}

TEST(CpuConv, LargeBatchBackwardInParallelGroups) {
  // 19 images: groups of 3 (the last one shorter), run in parallel.
  const ConvCase k{19, 4, 12, 12, 6, 3, 3, 1, 1};
  const Vec x = randomVec(k.xSize(), 3), w = randomVec(k.wSize(), 4), dy = randomVec(k.ySize(), 5);
  Vec dx(x.size()), dw(w.size()), wantDx, wantDw;
  Vec ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
  conv2d_bwd(dx.data(), dw.data(), dy.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f, k.kh,
             k.kw, k.stride, k.pad, ws.data());
  naiveConvBwd(k, x, w, dy, wantDx, wantDw);
  expectNear(dx, wantDx, 1e-13, "dx");
  expectNear(dw, wantDw, 1e-12, "dw");
}

TEST(CpuConv, FloatAgreesWithDouble) {
  const ConvCase k = convCases()[0];
  const Vec x = randomVec(k.xSize(), 1), w = randomVec(k.wSize(), 2);
  const auto xf = testing::toFloat(x), wf = testing::toFloat(w);
  std::vector<float> y(k.ySize()),
      ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
  conv2d_fwd(y.data(), xf.data(), wf.data(), k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad,
             ws.data());
  const Vec want = naiveConv(k, x, w);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(y[i], want[i], 1e-5);
}

// ---- the fused conv's bias, activation and their backward -------------------------

double activate(double v, Activation act) {
  switch (act) {
  case Activation::Relu:
    return v > 0 ? v : 0;
  case Activation::Sigmoid:
    return 1 / (1 + std::exp(-v));
  case Activation::Tanh:
    return std::tanh(v);
  case Activation::Gelu:
    return geluOf(v);
  default:
    return v;
  }
}

// d act / d pre-activation, from the output y (what the fused backward reads).
double activationSlope(double y, Activation act) {
  switch (act) {
  case Activation::Relu:
    return y > 0 ? 1 : 0;
  case Activation::Sigmoid:
    return y * (1 - y);
  case Activation::Tanh:
    return 1 - y * y;
  default:
    return 1;
  }
}

const Activation kActivations[] = {Activation::None, Activation::Relu, Activation::Sigmoid,
                                   Activation::Tanh, Activation::Gelu};

TEST(CpuConv, FusedForwardAddsBiasAndActivates) {
  for (const ConvCase &k : convCases())
    for (Activation act : kActivations) {
      const Vec x = randomVec(k.xSize(), 1), w = randomVec(k.wSize(), 2), b = randomVec(k.f, 6);
      Vec y(k.ySize());
      Vec ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
      conv2d_fwd(y.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride,
                 k.pad, ws.data(), b.data(), act);
      Vec want = naiveConv(k, x, w);
      const int64_t plane = k.oh() * k.ow();
      for (size_t i = 0; i < want.size(); ++i)
        want[i] = activate(want[i] + b[i / plane % k.f], act);
      expectNear(y, want, 1e-13, k.str() + " act " + std::to_string(int(act)));
    }
}

TEST(CpuConv, FusedBackwardGoesThroughTheActivation) {
  for (const ConvCase &k : convCases())
    for (Activation act : kActivations) {
      if (act == Activation::Gelu) // needs the pre-activation: refused, not computed
        continue;
      const Vec x = randomVec(k.xSize(), 3), w = randomVec(k.wSize(), 4), b = randomVec(k.f, 7);
      const Vec dy = randomVec(k.ySize(), 5);
      Vec y(k.ySize());
      Vec ws(conv2d_workspace_size(k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride, k.pad));
      conv2d_fwd(y.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f, k.kh, k.kw, k.stride,
                 k.pad, ws.data(), b.data(), act);
      Vec dx(x.size(), 3.0), dw(w.size(), 3.0), db(b.size(), 3.0);
      conv2d_bwd(dx.data(), dw.data(), dy.data(), x.data(), w.data(), k.n, k.c, k.h, k.w, k.f,
                 k.kh, k.kw, k.stride, k.pad, ws.data(), y.data(), act);
      conv2d_bias_bwd(db.data(), dy.data(), y.data(), k.n, k.f, k.oh() * k.ow(), act);
      // The reference: dz = dy * act'(y), then the plain conv's backward and the sum.
      Vec dz(dy.size()), wantDx, wantDw, wantDb(k.f, 0.0);
      const int64_t plane = k.oh() * k.ow();
      for (size_t i = 0; i < dz.size(); ++i) {
        dz[i] = dy[i] * activationSlope(y[i], act);
        wantDb[i / plane % k.f] += dz[i];
      }
      naiveConvBwd(k, x, w, dz, wantDx, wantDw);
      const std::string what = k.str() + " act " + std::to_string(int(act));
      expectNear(dx, wantDx, 1e-12, what + " dx");
      expectNear(dw, wantDw, 1e-12, what + " dw");
      expectNear(db, wantDb, 1e-12, what + " db");
    }
}

TEST(CpuConv, BiasGradientOfManyLanesIsDeterministicAndExact) {
  // Planes longer than the 16 running sums, with a remainder; float sums of small
  // integers are exact, so any lost or doubled term shows.
  const int64_t n = 3, f = 2, hw = 37;
  std::vector<float> dy(n * f * hw), db(f);
  for (size_t i = 0; i < dy.size(); ++i)
    dy[i] = float(i % 7);
  conv2d_bias_bwd(db.data(), dy.data(), static_cast<const float *>(nullptr), n, f, hw,
                  Activation::None);
  for (int64_t o = 0; o < f; ++o) {
    double want = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < hw; ++k)
        want += dy[(i * f + o) * hw + k];
    EXPECT_EQ(db[o], float(want)) << "channel " << o;
  }
}

// ---- pooling ---------------------------------------------------------------------------

struct PoolCase {
  int64_t n, c, h, w, kernel, stride, pad;
  int64_t oh() const { return convOutSize(h, kernel, stride, pad); }
  int64_t ow() const { return convOutSize(w, kernel, stride, pad); }
  int64_t xSize() const { return n * c * h * w; }
  int64_t ySize() const { return n * c * oh() * ow(); }
};

std::vector<PoolCase> poolCases() {
  return {
      {2, 3, 4, 4, 2, 2, 0}, // the classic 2x2
      {1, 2, 5, 7, 3, 2, 1}, // padded, overlapping
      {2, 1, 6, 5, 3, 1, 1}, // stride 1: heavy overlap
  };
}

Vec naivePool(const PoolCase &p, const Vec &x, bool max) {
  Vec y(p.ySize());
  for (int64_t pl = 0; pl < p.n * p.c; ++pl)
    for (int64_t oy = 0; oy < p.oh(); ++oy)
      for (int64_t ox = 0; ox < p.ow(); ++ox) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int64_t a = 0; a < p.kernel; ++a)
          for (int64_t b = 0; b < p.kernel; ++b) {
            const int64_t iy = oy * p.stride - p.pad + a, ix = ox * p.stride - p.pad + b;
            if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
              continue;
            const double v = x[(pl * p.h + iy) * p.w + ix];
            best = std::max(best, v);
            sum += v;
          }
        y[(pl * p.oh() + oy) * p.ow() + ox] = max ? best : sum / double(p.kernel * p.kernel);
      }
  return y;
}

TEST(CpuPool, MaxPoolForwardAndBackward) {
  for (const PoolCase &p : poolCases()) {
    const Vec x = randomVec(p.xSize(), 6), dy = randomVec(p.ySize(), 7);
    Vec y(p.ySize());
    std::vector<int64_t> arg(p.ySize());
    max_pool2d_fwd(y.data(), arg.data(), x.data(), p.n, p.c, p.h, p.w, p.kernel, p.stride, p.pad);
    EXPECT_EQ(y, naivePool(p, x, true));
    Vec dx(x.size(), 2.0), dxRecomputed(x.size(), 2.0);
    max_pool2d_bwd(dx.data(), dy.data(), arg.data(), x.data(), p.n, p.c, p.h, p.w, p.kernel,
                   p.stride, p.pad);
    max_pool2d_bwd<double>(dxRecomputed.data(), dy.data(), nullptr, x.data(), p.n, p.c, p.h, p.w,
                           p.kernel, p.stride, p.pad);
    EXPECT_EQ(dx, dxRecomputed); // the argmax recomputed from x is the saved one
    Vec dxSavedOnly(x.size(), 2.0);
    max_pool2d_bwd(dxSavedOnly.data(), dy.data(), arg.data(), p.n, p.c, p.h, p.w, p.kernel,
                   p.stride, p.pad);
    EXPECT_EQ(dx, dxSavedOnly);
    expectGradients(
        [&](const std::vector<Vec> &in) {
          Vec out(p.ySize());
          max_pool2d_fwd<double>(out.data(), nullptr, in[0].data(), p.n, p.c, p.h, p.w, p.kernel,
                                 p.stride, p.pad);
          return out;
        },
        {x}, dy, {dx}, "max_pool2d");
  }
}

TEST(CpuPool, MaxPoolArgmaxIsTheFirstOnTies) {
  const Vec x = {1, 1, 1, 1};
  double y;
  int64_t arg;
  max_pool2d_fwd(&y, &arg, x.data(), 1, 1, 2, 2, 2, 2, 0);
  EXPECT_EQ(arg, 0);
}

// The 2x2 stride-2 fast paths (forward without argmax, backward recomputing it) agree
// with the general path on ties (ReLU zeros) and NaNs: same values, and the gradient
// goes to the first maximum in row-major order.
TEST(CpuPool, TwoByTwoFastPathsMatchTheGeneralOneOnTiesAndNaN) {
  const int64_t n = 1, c = 2, h = 4, w = 6;
  Vec x = randomVec(n * c * h * w, 21);
  for (size_t i = 0; i < x.size(); i += 3)
    x[i] = 0; // ties
  x[5] = std::nan("");
  x[13] = x[12] = 7; // a tie at the maximum
  Vec fast(n * c * (h / 2) * (w / 2)), general(fast.size());
  std::vector<int64_t> arg(fast.size());
  max_pool2d_fwd(fast.data(), nullptr, x.data(), n, c, h, w, 2, 2, 0);
  max_pool2d_fwd(general.data(), arg.data(), x.data(), n, c, h, w, 2, 2, 0);
  for (size_t i = 0; i < fast.size(); ++i) {
    if (std::isnan(general[i]))
      EXPECT_TRUE(std::isnan(fast[i])) << i;
    else
      EXPECT_EQ(fast[i], general[i]) << i;
  }
  const Vec dy = randomVec(fast.size(), 22);
  Vec recomputed(x.size(), 5.0), saved(x.size(), 5.0);
  max_pool2d_bwd(recomputed.data(), dy.data(), nullptr, x.data(), n, c, h, w, 2, 2, 0);
  max_pool2d_bwd(saved.data(), dy.data(), arg.data(), x.data(), n, c, h, w, 2, 2, 0);
  EXPECT_EQ(recomputed, saved);
}

TEST(CpuPool, TwoByTwoFloatBackwardMatchesTheGeneralOne) {
  // Float planes 22 wide: 11 windows per row, 8 through the SSE2 path and 3 through
  // the scalar tail. Ties everywhere (zeros, whole windows equal, -0 against 0), NaNs
  // in every position of a window, an infinity.
  const int64_t n = 2, c = 3, h = 6, w = 22;
  std::vector<float> x = testing::toFloat(randomVec(n * c * h * w, 23));
  for (size_t i = 0; i < x.size(); i += 3)
    x[i] = 0;
  for (size_t i = 7; i < x.size(); i += 17)
    x[i] = -0.0f;
  for (size_t i = 2; i < x.size(); i += 29)
    x[i] = std::nanf("");
  x[44] = x[45] = x[66] = x[67] = 1.5f; // one window all equal
  x[100] = std::numeric_limits<float>::infinity();
  const int64_t outs = n * c * (h / 2) * (w / 2);
  std::vector<float> y(outs);
  std::vector<int64_t> arg(outs);
  max_pool2d_fwd(y.data(), arg.data(), x.data(), n, c, h, w, 2, 2, 0);
  const std::vector<float> dy = testing::toFloat(randomVec(outs, 24));
  std::vector<float> recomputed(x.size(), 5.f), saved(x.size(), 5.f);
  max_pool2d_bwd(recomputed.data(), dy.data(), nullptr, x.data(), n, c, h, w, 2, 2, 0);
  max_pool2d_bwd(saved.data(), dy.data(), arg.data(), x.data(), n, c, h, w, 2, 2, 0);
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(std::memcmp(&recomputed[i], &saved[i], sizeof(float)), 0)
        << "element " << i << ": " << recomputed[i] << " vs " << saved[i];
}

TEST(CpuPool, AvgPoolForwardAndBackward) {
  for (const PoolCase &p : poolCases()) {
    const Vec x = randomVec(p.xSize(), 8), dy = randomVec(p.ySize(), 9);
    Vec y(p.ySize());
    avg_pool2d_fwd(y.data(), x.data(), p.n, p.c, p.h, p.w, p.kernel, p.stride, p.pad);
    expectNear(y, naivePool(p, x, false), 1e-15, "avg_pool2d");
    Vec dx(x.size(), 2.0);
    avg_pool2d_bwd(dx.data(), dy.data(), p.n, p.c, p.h, p.w, p.kernel, p.stride, p.pad);
    expectGradients(
        [&](const std::vector<Vec> &in) {
          Vec out(p.ySize());
          avg_pool2d_fwd(out.data(), in[0].data(), p.n, p.c, p.h, p.w, p.kernel, p.stride, p.pad);
          return out;
        },
        {x}, dy, {dx}, "avg_pool2d");
  }
}

TEST(CpuPool, StrideZeroMeansStrideKernel) {
  const PoolCase p{1, 2, 6, 4, 2, 2, 0};
  const Vec x = randomVec(p.xSize(), 12);
  Vec a(p.ySize()), b(p.ySize()), c(p.ySize()), d(p.ySize());
  max_pool2d_fwd<double>(a.data(), nullptr, x.data(), p.n, p.c, p.h, p.w, 2, 2, 0);
  max_pool2d_fwd<double>(b.data(), nullptr, x.data(), p.n, p.c, p.h, p.w, 2, 0, 0);
  avg_pool2d_fwd(c.data(), x.data(), p.n, p.c, p.h, p.w, 2, 2, 0);
  avg_pool2d_fwd(d.data(), x.data(), p.n, p.c, p.h, p.w, 2, 0, 0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(c, d);
}

TEST(CpuPool, AvgPoolCountsPaddingInTheDivisor) {
  // A 1x1 input padded by 1 with a 3x3 window: the one value over 9 (count_include_pad).
  const double x = 9.0;
  double y;
  avg_pool2d_fwd(&y, &x, 1, 1, 1, 1, 3, 1, 1);
  EXPECT_EQ(y, 1.0);
}

TEST(CpuPool, GlobalAvgPool) {
  const int64_t n = 2, c = 3, hw = 5;
  const Vec x = randomVec(n * c * hw, 10), dy = randomVec(n * c, 11);
  Vec y(n * c);
  global_avg_pool_fwd(y.data(), x.data(), n, c, hw);
  for (int64_t p = 0; p < n * c; ++p) {
    double s = 0;
    for (int64_t i = 0; i < hw; ++i)
      s += x[p * hw + i];
    EXPECT_NEAR(y[p], s / hw, 1e-15);
  }
  Vec dx(x.size());
  global_avg_pool_bwd(dx.data(), dy.data(), n, c, hw);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        Vec out(n * c);
        global_avg_pool_fwd(out.data(), in[0].data(), n, c, hw);
        return out;
      },
      {x}, dy, {dx}, "global_avg_pool");
}

} // namespace
} // namespace nng::cpu
