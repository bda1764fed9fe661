// CPU reduction and shape kernels: sum/mean/max over axis sets, softmax/log_softmax,
// concat/slice/reshape, against naive references and finite differences.
#include <cmath>
#include <limits>

#include "core/cpu/kernels/reduction.h"
#include "core/cpu/kernels/shape_ops.h"
#include "tests/unit/cpu_testing.h"

namespace nng::cpu {
namespace {

using testing::expectGradients;
using testing::expectNear;
using testing::randomVec;
using testing::Vec;

// Naive reduction: output index = the kept coordinates in order.
Vec naiveReduce(const Vec &x, const Dims &xs, uint32_t mask, int kind /*0 sum 1 mean 2 max*/) {
  Dims ys;
  int64_t group = 1;
  for (int d = 0; d < xs.rank; ++d) {
    if (mask >> d & 1u)
      group *= xs[d];
    else
      ys[ys.rank++] = xs[d];
  }
  Vec y(ys.numel(), kind == 2 ? -std::numeric_limits<double>::infinity() : 0.0);
  for (int64_t i = 0; i < xs.numel(); ++i) {
    const auto c = testing::coordsOf(i, xs);
    int64_t o = 0;
    for (int d = 0; d < xs.rank; ++d)
      if (!(mask >> d & 1u))
        o = o * xs[d] + c[d];
    if (kind == 2)
      y[o] = std::max(y[o], x[i]);
    else
      y[o] += x[i];
  }
  if (kind == 1)
    for (double &v : y)
      v /= double(group);
  return y;
}

std::vector<std::pair<Dims, std::vector<int64_t>>> reduceCases() {
  return {
      {{3, 4}, {}},        // all axes
      {{3, 4}, {1}},       // inner
      {{3, 4}, {0}},       // outer (kept innermost: column blocks)
      {{2, 3, 4}, {1}},    // middle
      {{2, 3, 4}, {0, 2}}, // outer and inner (batch-norm style)
      {{2, 3, 4, 5}, {-1, 1}},
      {{4, 1, 3}, {1}}, // an extent-1 axis
      {{5}, {0}},
      {{2, 300}, {0}}, // wider than one column block
  };
}

TEST(CpuReduce, ForwardMatchesNaive) {
  for (const auto &[xs, axes] : reduceCases()) {
    const uint32_t mask = reduceMask(xs, axes);
    const Vec x = randomVec(xs.numel(), 1);
    const Vec sum = naiveReduce(x, xs, mask, 0);
    Vec y(sum.size());
    sum_fwd(y.data(), x.data(), xs, mask);
    expectNear(y, sum, 1e-14, "sum " + xs.str());
    mean_fwd(y.data(), x.data(), xs, mask);
    expectNear(y, naiveReduce(x, xs, mask, 1), 1e-14, "mean " + xs.str());
    max_fwd(y.data(), x.data(), xs, mask);
    EXPECT_EQ(y, naiveReduce(x, xs, mask, 2)) << "max " << xs.str();
  }
}

TEST(CpuReduce, BackwardMatchesFiniteDifferences) {
  using Fwd = void (*)(double *, const double *, const Dims &, uint32_t);
  for (const auto &[xs, axes] : reduceCases()) {
    const uint32_t mask = reduceMask(xs, axes);
    const Vec x = randomVec(xs.numel(), 2);
    const int64_t ny = int64_t(naiveReduce(x, xs, mask, 0).size());
    const Vec dy = randomVec(ny, 3);
    auto check = [&](Fwd fwd, const Vec &dx, const char *name) {
      expectGradients(
          [&](const std::vector<Vec> &in) {
            Vec y(ny);
            fwd(y.data(), in[0].data(), xs, mask);
            return y;
          },
          {x}, dy, {dx}, std::string(name) + " " + xs.str());
    };
    Vec dx(x.size(), 9.0);
    sum_bwd(dx.data(), dy.data(), xs, mask);
    check(sum_fwd<double>, dx, "sum");
    mean_bwd(dx.data(), dy.data(), xs, mask);
    check(mean_fwd<double>, dx, "mean");
    std::fill(dx.begin(), dx.end(), 9.0);
    max_bwd(dx.data(), dy.data(), x.data(), xs, mask);
    check(max_fwd<double>, dx, "max");
  }
}

TEST(CpuReduce, MaxBackwardRoutesToTheFirstArgmax) {
  const Vec x = {1, 3, 3, 2, 5, 5};
  const Vec dy = {10, 20};
  Vec dx(6);
  max_bwd(dx.data(), dy.data(), x.data(), {2, 3}, reduceMask({2, 3}, {1}));
  EXPECT_EQ(dx, (Vec{0, 10, 0, 0, 20, 0}));
  // Along the outer axis (the column-block path).
  const Vec x2 = {4, 1, 4, 7};
  Vec dx2(4);
  max_bwd(dx2.data(), dy.data(), x2.data(), {2, 2}, reduceMask({2, 2}, {0}));
  EXPECT_EQ(dx2, (Vec{10, 0, 0, 20}));
}

TEST(CpuReduce, MaxPropagatesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Vec x = {1, nan, 3};
  double y;
  max_fwd(&y, x.data(), {3}, reduceMask({3}, {}));
  EXPECT_TRUE(std::isnan(y));
}

TEST(CpuReduce, LargeSumsAreExactEnough) {
  // A full reduction over many blocks and an inner reduction with many rows.
  const Dims xs{64, 3000};
  const Vec x = randomVec(xs.numel(), 4);
  double all;
  sum_fwd(&all, x.data(), xs, reduceMask(xs, {}));
  EXPECT_NEAR(all, naiveReduce(x, xs, reduceMask(xs, {}), 0)[0], 1e-10);
  Vec rows(64);
  sum_fwd(rows.data(), x.data(), xs, reduceMask(xs, {1}));
  expectNear(rows, naiveReduce(x, xs, reduceMask(xs, {1}), 0), 1e-12, "rows");
  Vec cols(3000);
  sum_fwd(cols.data(), x.data(), xs, reduceMask(xs, {0}));
  expectNear(cols, naiveReduce(x, xs, reduceMask(xs, {0}), 0), 1e-12, "cols");
}

// ---- softmax ---------------------------------------------------------------------------

Vec naiveSoftmax(const Vec &x, int64_t outer, int64_t axis, int64_t inner, bool log) {
  Vec y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (int64_t k = 0; k < axis; ++k)
        s += std::exp(x[(o * axis + k) * inner + i]);
      for (int64_t k = 0; k < axis; ++k) {
        const int64_t at = (o * axis + k) * inner + i;
        y[at] = log ? x[at] - std::log(s) : std::exp(x[at]) / s;
      }
    }
  return y;
}

TEST(CpuSoftmax, ForwardAndBackward) {
  const int64_t shapes[][3] = {{4, 7, 1}, {2, 5, 3}, {1, 6, 1}, {3, 1, 2}};
  for (const auto &s : shapes) {
    const int64_t outer = s[0], axis = s[1], inner = s[2], n = outer * axis * inner;
    const Vec x = randomVec(n, 5, -3, 3), dy = randomVec(n, 6);
    for (bool log : {false, true}) {
      const char *name = log ? "log_softmax" : "softmax";
      auto fwd = log ? log_softmax_fwd<double> : softmax_fwd<double>;
      Vec y(n), dx(n);
      fwd(y.data(), x.data(), outer, axis, inner);
      expectNear(y, naiveSoftmax(x, outer, axis, inner, log), 1e-14, name);
      if (log)
        log_softmax_bwd(dx.data(), dy.data(), y.data(), outer, axis, inner);
      else
        softmax_bwd(dx.data(), dy.data(), y.data(), outer, axis, inner);
      expectGradients(
          [&](const std::vector<Vec> &in) {
            Vec out(n);
            fwd(out.data(), in[0].data(), outer, axis, inner);
            return out;
          },
          {x}, dy, {dx}, name);
    }
  }
}

TEST(CpuSoftmax, StableForHugeLogits) {
  const Vec x = {1000, 1001, 1002};
  Vec y(3), ly(3);
  softmax_fwd(y.data(), x.data(), 1, 3, 1);
  log_softmax_fwd(ly.data(), x.data(), 1, 3, 1);
  const Vec small = {0, 1, 2};
  const Vec want = naiveSoftmax(small, 1, 3, 1, false), lwant = naiveSoftmax(small, 1, 3, 1, true);
  expectNear(y, want, 1e-14, "softmax");
  expectNear(ly, lwant, 1e-13, "log_softmax");
}

// ---- shape ops ---------------------------------------------------------------------------

TEST(CpuShape, ConcatAndItsBackward) {
  // Three inputs [2, a_i, 3] along axis 1.
  const int64_t sizes[] = {1, 2, 3};
  const int64_t outer = 2, inner = 3, total = 6;
  std::vector<Vec> xs = {randomVec(6, 1), randomVec(12, 2), randomVec(18, 3)};
  const double *ptrs[] = {xs[0].data(), xs[1].data(), xs[2].data()};
  Vec y(outer * total * inner);
  concat_fwd(y.data(), ptrs, sizes, 3, outer, inner);
  int64_t at = 0;
  for (int i = 0; i < 3; ++i) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < sizes[i]; ++k)
        for (int64_t j = 0; j < inner; ++j)
          ASSERT_EQ(y[(o * total + at + k) * inner + j], xs[i][(o * sizes[i] + k) * inner + j]);
    at += sizes[i];
  }
  const Vec dy = randomVec(y.size(), 4);
  Vec d0(6), d2(18);
  double *dptrs[] = {d0.data(), nullptr, d2.data()};
  concat_bwd(dptrs, dy.data(), sizes, 3, outer, inner);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        const double *p[] = {in[0].data(), in[1].data(), in[2].data()};
        Vec out(y.size());
        concat_fwd(out.data(), p, sizes, 3, outer, inner);
        return out;
      },
      xs, dy, {d0, {}, d2}, "concat");
}

TEST(CpuShape, SliceAndItsBackward) {
  const Dims xs{2, 5, 3};
  const AxisSplit s = splitAt(xs, -2);
  EXPECT_EQ(s.outer, 2);
  EXPECT_EQ(s.axis, 5);
  EXPECT_EQ(s.inner, 3);
  const Vec x = randomVec(xs.numel(), 5);
  Vec y(2 * 2 * 3);
  slice_fwd(y.data(), x.data(), s.outer, s.axis, s.inner, 1, 3);
  for (int o = 0; o < 2; ++o)
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < 3; ++j)
        ASSERT_EQ(y[(o * 2 + k) * 3 + j], x[(o * 5 + k + 1) * 3 + j]);
  const Vec dy = randomVec(y.size(), 6);
  Vec dx(x.size(), 5.0);
  slice_bwd(dx.data(), dy.data(), s.outer, s.axis, s.inner, 1, 3);
  expectGradients(
      [&](const std::vector<Vec> &in) {
        Vec out(y.size());
        slice_fwd(out.data(), in[0].data(), s.outer, s.axis, s.inner, 1, 3);
        return out;
      },
      {x}, dy, {dx}, "slice");
}

TEST(CpuShape, IntegerConcatAndSlice) {
  const std::vector<int64_t> a = {1, 2, 3, 4}, b = {5, 6};
  const int64_t *ptrs[] = {a.data(), b.data()};
  const int64_t sizes[] = {2, 1}; // [2, 2] and [2, 1] along axis 1
  std::vector<int64_t> y(6), s(2);
  concat_fwd(y.data(), ptrs, sizes, 2, 2, 1);
  EXPECT_EQ(y, (std::vector<int64_t>{1, 2, 5, 3, 4, 6}));
  slice_fwd(s.data(), y.data(), 2, 3, 1, 2, 3);
  EXPECT_EQ(s, b);
}

TEST(CpuShape, ReshapeCopiesOrDoesNothing) {
  Vec x = randomVec(100000, 7), y(100000);
  reshape_fwd(y.data(), x.data(), 100000);
  EXPECT_EQ(x, y);
  reshape_fwd(x.data(), x.data(), 100000); // aliasing: a no-op
  EXPECT_EQ(x, y);
}

TEST(CpuShape, ReduceMaskAndDims) {
  EXPECT_EQ(reduceMask({2, 3, 4}, {}), 7u);
  EXPECT_EQ(reduceMask({2, 3, 4}, {-1, 0}), 5u);
  EXPECT_EQ((Dims{2, 3}).str(), "[2, 3]");
  EXPECT_EQ((Dims{}).numel(), 1);
  EXPECT_THROW(Dims::of(std::vector<int64_t>(9, 1)), UserError);
}

} // namespace
} // namespace nng::cpu
