// CPU elementwise kernels: unary and broadcasting binary ops against naive references,
// their gradients against finite differences, and the f16/bf16 rounding.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cpu/kernels/elementwise.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

// ---- unary --------------------------------------------------------------------------

struct UnaryCase {
  const char *name;
  void (*fwd)(double *, const double *, int64_t);
  double (*ref)(double);
  // Backward through whichever forward tensor the kernel takes.
  std::function<void(double *, const double *, const double *x, const double *y, int64_t)> bwd;
  double lo, hi; // input range (positive for log and sqrt)
};

double geluRef(double x) {
  return 0.5 * x *
         (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}

std::vector<UnaryCase> unaryCases() {
  return {
      {"neg", neg_fwd<double>, [](double x) { return -x; },
       [](double *dx, const double *dy, const double *, const double *, int64_t n) {
         neg_bwd(dx, dy, n);
       },
       -2, 2},
      {"relu", relu_fwd<double>, [](double x) { return x > 0 ? x : 0.0; },
       [](double *dx, const double *dy, const double *x, const double *, int64_t n) {
         relu_bwd(dx, dy, x, n);
       },
       -2, 2},
      {"sigmoid", sigmoid_fwd<double>, [](double x) { return 1 / (1 + std::exp(-x)); },
       [](double *dx, const double *dy, const double *, const double *y, int64_t n) {
         sigmoid_bwd(dx, dy, y, n);
       },
       -4, 4},
      {"tanh", tanh_fwd<double>, [](double x) { return std::tanh(x); },
       [](double *dx, const double *dy, const double *, const double *y, int64_t n) {
         tanh_bwd(dx, dy, y, n);
       },
       -3, 3},
      {"gelu", gelu_fwd<double>, geluRef,
       [](double *dx, const double *dy, const double *x, const double *, int64_t n) {
         gelu_bwd(dx, dy, x, n);
       },
       -3, 3},
      {"exp", exp_fwd<double>, [](double x) { return std::exp(x); },
       [](double *dx, const double *dy, const double *, const double *y, int64_t n) {
         exp_bwd(dx, dy, y, n);
       },
       -2, 2},
      {"log", log_fwd<double>, [](double x) { return std::log(x); },
       [](double *dx, const double *dy, const double *x, const double *, int64_t n) {
         log_bwd(dx, dy, x, n);
       },
       0.2, 3},
      {"sqrt", sqrt_fwd<double>, [](double x) { return std::sqrt(x); },
       [](double *dx, const double *dy, const double *, const double *y, int64_t n) {
         sqrt_bwd(dx, dy, y, n);
       },
       0.2, 3},
      {"abs", abs_fwd<double>, [](double x) { return std::abs(x); },
       [](double *dx, const double *dy, const double *x, const double *, int64_t n) {
         abs_bwd(dx, dy, x, n);
       },
       -2, 2},
  };
}

TEST(CpuUnary, ForwardMatchesReference) {
  for (const UnaryCase &c : unaryCases()) {
    const Vec x = randomVec(257, 1, c.lo, c.hi);
    Vec y(x.size()), want(x.size());
    c.fwd(y.data(), x.data(), int64_t(x.size()));
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = c.ref(x[i]);
    expectNear(y, want, 1e-14, c.name);
  }
}

TEST(CpuUnary, BackwardMatchesFiniteDifferences) {
  for (const UnaryCase &c : unaryCases()) {
    const int64_t n = 97;
    const Vec x = randomVec(n, 2, c.lo, c.hi), dy = randomVec(n, 3);
    Vec y(n), dx(n);
    c.fwd(y.data(), x.data(), n);
    c.bwd(dx.data(), dy.data(), x.data(), y.data(), n);
    expectGradients(
        [&](const std::vector<Vec> &in) {
          Vec out(n);
          c.fwd(out.data(), in[0].data(), n);
          return out;
        },
        {x}, dy, {dx}, c.name);
  }
}

TEST(CpuUnary, LeakyRelu) {
  const int64_t n = 64;
  const Vec x = randomVec(n, 4), dy = randomVec(n, 5);
  Vec y(n), dx(n);
  leaky_relu_fwd(y.data(), x.data(), n, 0.1);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_DOUBLE_EQ(y[i], x[i] > 0 ? x[i] : 0.1 * x[i]);
  leaky_relu_bwd(dx.data(), dy.data(), x.data(), n, 0.1);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        Vec out(n);
        leaky_relu_fwd(out.data(), in[0].data(), n, 0.1);
        return out;
      },
      {x}, dy, {dx}, "leaky_relu");
}

TEST(CpuUnary, SigmoidIsStableForLargeInputs) {
  const Vec x = {-1000, -50, 0, 50, 1000};
  Vec y(x.size());
  sigmoid_fwd(y.data(), x.data(), 5);
  EXPECT_EQ(y[0], 0.0);
  EXPECT_NEAR(y[1], std::exp(-50.0), 1e-30);
  EXPECT_EQ(y[2], 0.5);
  EXPECT_EQ(y[4], 1.0);
  for (double v : y)
    EXPECT_FALSE(std::isnan(v));
}

TEST(CpuUnary, InPlace) {
  Vec x = {-1, 2, -3, 4};
  relu_fwd(x.data(), x.data(), 4);
  EXPECT_EQ(x, (Vec{0, 2, 0, 4}));
}

// ---- binary -------------------------------------------------------------------------

struct BinaryOp {
  const char *name;
  void (*fwd)(double *, const double *, const double *, const Dims &, const Dims &);
  double (*ref)(double, double);
  // Backward with the uniform (da, db, dout, a, b, shapes) signature.
  std::function<void(double *, double *, const double *, const double *, const double *,
                     const Dims &, const Dims &)>
      bwd;
  bool positiveA; // pow needs a positive base for a real gradient
};

std::vector<BinaryOp> binaryOps() {
  return {
      {"add", add_fwd<double>, [](double a, double b) { return a + b; },
       [](double *da, double *db, const double *g, const double *, const double *, const Dims &as,
          const Dims &bs) { add_bwd(da, db, g, as, bs); },
       false},
      {"sub", sub_fwd<double>, [](double a, double b) { return a - b; },
       [](double *da, double *db, const double *g, const double *, const double *, const Dims &as,
          const Dims &bs) { sub_bwd(da, db, g, as, bs); },
       false},
      {"mul", mul_fwd<double>, [](double a, double b) { return a * b; }, mul_bwd<double>, false},
      {"div", div_fwd<double>, [](double a, double b) { return a / b; }, div_bwd<double>, false},
      {"maximum", maximum_fwd<double>, [](double a, double b) { return std::max(a, b); },
       maximum_bwd<double>, false},
      {"minimum", minimum_fwd<double>, [](double a, double b) { return std::min(a, b); },
       minimum_bwd<double>, false},
      {"pow", pow_fwd<double>, [](double a, double b) { return std::pow(a, b); }, pow_bwd<double>,
       true},
  };
}

// Shape pairs covering the fast paths and the general strided engine.
std::vector<std::pair<Dims, Dims>> shapePairs() {
  return {
      {{3, 4}, {3, 4}},             // same shape
      {{5, 6}, {6}},                // bias
      {{6}, {5, 6}},                // bias on the left
      {{4, 1}, {1, 5}},             // outer product
      {{2, 3}, {}},                 // scalar
      {{1}, {2, 3}},                // scalar-like [1]
      {{2, 1, 3}, {4, 1}},          // rank-expanding
      {{3, 1, 4, 1}, {1, 5, 1, 2}}, // alternating broadcast dims
      {{2, 3, 4}, {2, 1, 4}},       // middle broadcast
      {{2, 3, 4}, {2, 3, 1}},       // inner broadcast
  };
}

Vec naiveBinary(const BinaryOp &op, const Vec &a, const Vec &b, const Dims &as, const Dims &bs,
                Dims &outShape) {
  outShape.rank = std::max(as.rank, bs.rank);
  for (int i = 0; i < outShape.rank; ++i) {
    const int ia = i - (outShape.rank - as.rank), ib = i - (outShape.rank - bs.rank);
    outShape[i] = std::max(ia >= 0 ? as[ia] : 1, ib >= 0 ? bs[ib] : 1);
  }
  Vec out(outShape.numel());
  for (int64_t i = 0; i < outShape.numel(); ++i) {
    const auto c = testing::coordsOf(i, outShape);
    out[i] = op.ref(a[testing::broadcastIndex(c, as)], b[testing::broadcastIndex(c, bs)]);
  }
  return out;
}

TEST(CpuBinary, ForwardMatchesNaiveBroadcasting) {
  for (const BinaryOp &op : binaryOps())
    for (const auto &[as, bs] : shapePairs()) {
      const Vec a = randomVec(as.numel(), 10, op.positiveA ? 0.5 : -1, 2);
      const Vec b = randomVec(bs.numel(), 11, -1, 2);
      Dims os;
      const Vec want = naiveBinary(op, a, b, as, bs, os);
      Vec out(os.numel());
      op.fwd(out.data(), a.data(), b.data(), as, bs);
      expectNear(out, want, 1e-15, std::string(op.name) + " " + as.str() + " " + bs.str());
    }
}

TEST(CpuBinary, BackwardMatchesFiniteDifferences) {
  for (const BinaryOp &op : binaryOps())
    for (const auto &[as, bs] : shapePairs()) {
      const Vec a = randomVec(as.numel(), 20, op.positiveA ? 0.5 : -1, 2);
      // Keep divisors away from 0.
      Vec b = randomVec(bs.numel(), 21, 0.5, 2);
      Dims os;
      naiveBinary(op, a, b, as, bs, os);
      const Vec dout = randomVec(os.numel(), 22);
      Vec da(a.size()), db(b.size());
      op.bwd(da.data(), db.data(), dout.data(), a.data(), b.data(), as, bs);
      expectGradients(
          [&](const std::vector<Vec> &in) {
            Vec out(os.numel());
            op.fwd(out.data(), in[0].data(), in[1].data(), as, bs);
            return out;
          },
          {a, b}, dout, {da, db}, std::string(op.name) + " " + as.str() + " " + bs.str());
    }
}

TEST(CpuBinary, NullGradientIsSkipped) {
  const Vec a = randomVec(6, 1), b = randomVec(3, 2), g = randomVec(6, 3);
  Vec db(3);
  mul_bwd<double>(nullptr, db.data(), g.data(), a.data(), b.data(), {2, 3}, {3});
  for (int j = 0; j < 3; ++j)
    EXPECT_NEAR(db[j], g[j] * a[j] + g[3 + j] * a[3 + j], 1e-15);
}

TEST(CpuBinary, MaximumTiesSplitTheGradient) {
  const Vec a = {1, 2}, b = {1, 3}, g = {1, 1};
  Vec da(2), db(2);
  maximum_bwd(da.data(), db.data(), g.data(), a.data(), b.data(), {2}, {2});
  EXPECT_EQ(da, (Vec{0.5, 0}));
  EXPECT_EQ(db, (Vec{0.5, 1}));
}

TEST(CpuBinary, MaximumPropagatesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Vec a = {nan, 1}, b = {1, nan};
  Vec out(2);
  maximum_fwd(out.data(), a.data(), b.data(), {2}, {2});
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
}

TEST(CpuBinary, PowGradientAtZeroBase) {
  const Vec a = {0.0}, b = {2.0}, g = {1.0};
  Vec da(1), db(1);
  pow_bwd(da.data(), db.data(), g.data(), a.data(), b.data(), {1}, {1});
  EXPECT_EQ(da[0], 0.0);
  EXPECT_EQ(db[0], 0.0); // not 0 * log(0) = nan
}

TEST(CpuBinary, LargeBroadcastRunsInParallelAndMatches) {
  // Big enough for the OpenMP paths and for chunked rows.
  const Dims as{3, 20000}, bs{20000};
  const Vec a = randomVec(as.numel(), 1), b = randomVec(bs.numel(), 2);
  Vec out(as.numel()), db(bs.numel());
  add_fwd(out.data(), a.data(), b.data(), as, bs);
  for (int64_t i = 0; i < as.numel(); i += 977)
    ASSERT_EQ(out[i], a[i] + b[i % 20000]);
  add_bwd<double>(nullptr, db.data(), out.data(), as, bs);
  for (int64_t j = 0; j < 20000; j += 331)
    ASSERT_EQ(db[j], (out[j] + out[20000 + j]) + out[40000 + j]);
}

TEST(CpuBinary, SumToReducesBroadcastDims) {
  const Dims xs{2, 3, 4}, ys{3, 1};
  const Vec x = randomVec(xs.numel(), 7);
  Vec y(3);
  sum_to_fwd(y.data(), x.data(), ys, xs);
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k)
        s += x[(i * 3 + j) * 4 + k];
    EXPECT_NEAR(y[j], s, 1e-14);
  }
}

TEST(CpuBinary, FloatInstantiationAgreesWithDouble) {
  const Dims as{4, 5}, bs{5};
  const Vec a = randomVec(20, 1), b = randomVec(5, 2, 0.5, 2);
  const auto af = testing::toFloat(a), bf = testing::toFloat(b);
  std::vector<float> of(20);
  Vec od(20);
  div_fwd(of.data(), af.data(), bf.data(), as, bs);
  div_fwd(od.data(), a.data(), b.data(), as, bs);
  for (int i = 0; i < 20; ++i)
    EXPECT_NEAR(of[i], od[i], 1e-5);
}

// ---- casts and rounding ----------------------------------------------------------------

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

TEST(CpuCast, HalfRoundTripsEveryBitPattern) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = halfBitsToFloat(uint16_t(h));
    const bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    if (nan) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(f))));
      continue;
    }
    ASSERT_EQ(floatToHalfBits(f), h) << "half bits " << h;
    ASSERT_EQ(bitsOf(f), bitsOf(float(_Float16(f)))) << "half bits " << h;
  }
}

TEST(CpuCast, HalfRoundingMatchesTheCompiler) {
  // GCC's _Float16 conversion rounds to nearest even: compare on a dense sweep of
  // floats across the half range, including ties, subnormals and overflow.
  std::mt19937 gen(1);
  for (int i = 0; i < 2000000; ++i) {
    uint32_t u = gen();
    // Exponents concentrated around the half range (2^-26 .. 2^17).
    u = (u & 0x807fffffu) | ((101u + (u >> 23) % 44u) << 23);
    if (i % 4 == 0)
      u = (u & 0xffffe000u) | 0x1000u; // halfway between two normal halves
    float f;
    std::memcpy(&f, &u, 4);
    ASSERT_EQ(bitsOf(roundToHalf(f)), bitsOf(float(_Float16(f)))) << "float bits " << u;
  }
  EXPECT_EQ(roundToHalf(65519.0f), 65504.0f);
  EXPECT_TRUE(std::isinf(roundToHalf(65520.0f)));
  EXPECT_EQ(roundToHalf(1.0f + 0x1p-11f), 1.0f);               // tie to even (down)
  EXPECT_EQ(roundToHalf(1.0f + 3 * 0x1p-11f), 1.0f + 0x1p-9f); // tie to even (up)
  EXPECT_EQ(roundToHalf(0x1p-25f), 0.0f);                      // half the smallest subnormal
  EXPECT_EQ(roundToHalf(0x1.8p-25f), 0x1p-24f);
}

// The nearest bf16 by brute force: the two bf16 neighbours of x, ties to the even one.
float nearestBf16(float x) {
  const uint32_t u = bitsOf(x);
  const uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
  float fl, fh;
  std::memcpy(&fl, &lo, 4);
  std::memcpy(&fh, &hi, 4);
  const double dl = std::abs(double(x) - fl), dh = std::abs(double(fh) - x);
  if (dl < dh || (dl == dh && ((lo >> 16) & 1u) == 0))
    return fl;
  return fh;
}

TEST(CpuCast, Bf16RoundsToNearestEven) {
  std::mt19937 gen(2);
  for (int i = 0; i < 1000000; ++i) {
    uint32_t u = gen() & 0xfeffffffu; // keep the exponent below 0xff: finite values
    if (i % 4 == 0)
      u = (u & 0xffff0000u) | 0x8000u; // a tie
    float f;
    std::memcpy(&f, &u, 4);
    ASSERT_EQ(bitsOf(roundToBf16(f)), bitsOf(nearestBf16(f))) << "float bits " << u;
  }
  EXPECT_TRUE(std::isinf(roundToBf16(std::numeric_limits<float>::max())));
  EXPECT_TRUE(std::isnan(roundToBf16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(floatToBf16Bits(1.0f), 0x3f80);
}

TEST(CpuCast, DoubleRoundingPathAgreesWithFloatPath) {
  // For values exact in float, rounding from double must equal rounding from float.
  const Vec x = randomVec(10000, 3, -70000, 70000);
  Vec xd(x.size()), rd(x.size()), rb(x.size());
  std::vector<float> xf(x.size()), rf(x.size()), rfb(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xf[i] = float(x[i] * (i % 3 == 0 ? 1e-6 : 1.0));
    xd[i] = xf[i];
  }
  round_f16_fwd(rd.data(), xd.data(), int64_t(x.size()));
  round_f16_fwd(rf.data(), xf.data(), int64_t(x.size()));
  round_bf16_fwd(rb.data(), xd.data(), int64_t(x.size()));
  round_bf16_fwd(rfb.data(), xf.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(rd[i], double(rf[i])) << xf[i];
    ASSERT_EQ(rb[i], double(rfb[i])) << xf[i];
  }
  // A double just above a half tie must round up, where going through float would
  // first land on the tie and then round to even (down).
  const double above = 1.0 + 0x1p-11 + 0x1p-40;
  double r;
  round_f16_fwd(&r, &above, 1);
  EXPECT_EQ(r, 1.0 + 0x1p-10);
}

TEST(CpuCast, StorageAndNumericCasts) {
  const std::vector<float> x = {1.0f, -2.5f, 65504.0f, 1e-8f};
  std::vector<uint16_t> h(4), b(4);
  std::vector<float> back(4);
  cast_f32_to_f16_fwd(h.data(), x.data(), 4);
  cast_f16_to_f32_fwd(back.data(), h.data(), 4);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_EQ(back[2], 65504.0f);
  EXPECT_EQ(back[3], roundToHalf(1e-8f));
  cast_f32_to_bf16_fwd(b.data(), x.data(), 4);
  cast_bf16_to_f32_fwd(back.data(), b.data(), 4);
  EXPECT_EQ(back[1], -2.5f);

  const Vec d = {1.7, -2.2, 0.0};
  std::vector<int64_t> i(3);
  std::vector<uint8_t> flag(3);
  cast_fwd(i.data(), d.data(), 3);
  cast_fwd(flag.data(), d.data(), 3);
  EXPECT_EQ(i, (std::vector<int64_t>{1, -2, 0}));
  EXPECT_EQ(flag, (std::vector<uint8_t>{1, 1, 0}));
}

} // namespace
} // namespace nng::cpu
