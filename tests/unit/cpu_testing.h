// Helpers for the CPU kernel tests: seeded random tensors, naive N-d indexing for the
// reference implementations, and the finite-difference gradient check.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/cpu/kernels/common.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu::testing {

using Vec = std::vector<double>;

inline Vec randomVec(int64_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Vec v(n);
  for (double &x : v)
    x = dist(gen);
  return v;
}

inline std::vector<float> toFloat(const Vec &v) { return std::vector<float>(v.begin(), v.end()); }

// Row-major coordinates of flat index i in shape s.
inline std::vector<int64_t> coordsOf(int64_t i, const Dims &s) {
  std::vector<int64_t> c(s.rank);
  for (int d = s.rank - 1; d >= 0; --d) {
    c[d] = i % s[d];
    i /= s[d];
  }
  return c;
}

// Flat index in shape s of the broadcast coordinates `c` (of a shape of rank >= s.rank):
// right-aligned, extent-1 dims read index 0.
inline int64_t broadcastIndex(const std::vector<int64_t> &c, const Dims &s) {
  int64_t idx = 0;
  const int lead = int(c.size()) - s.rank;
  for (int d = 0; d < s.rank; ++d)
    idx = idx * s[d] + (s[d] == 1 ? 0 : c[lead + d]);
  return idx;
}

// |a - b| / max(|a|, |b|, floor) over all elements; the worst one.
inline double maxRelError(const Vec &a, const Vec &b, double floor = 1e-2) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double den = std::max({std::abs(a[i]), std::abs(b[i]), floor});
    worst = std::max(worst, std::abs(a[i] - b[i]) / den);
  }
  return worst;
}

inline void expectNear(const Vec &got, const Vec &want, double tol, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0, std::abs(want[i])))
        << what << " at element " << i;
}

// f maps the inputs to one output tensor. For every input k with a non-empty
// analytic[k], checks analytic[k] == d/d inputs[k] of L = sum(dy * f(inputs)) by
// central differences: relative error below tol.
using Fn = std::function<Vec(const std::vector<Vec> &)>;
inline void expectGradients(const Fn &f, std::vector<Vec> inputs, const Vec &dy,
                            const std::vector<Vec> &analytic, const std::string &what,
                            double h = 1e-5, double tol = 1e-6) {
  auto loss = [&](const std::vector<Vec> &in) {
    const Vec y = f(in);
    EXPECT_EQ(y.size(), dy.size()) << what;
    double l = 0;
    for (size_t i = 0; i < y.size() && i < dy.size(); ++i)
      l += dy[i] * y[i];
    return l;
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (k >= analytic.size() || analytic[k].empty())
      continue;
    ASSERT_EQ(analytic[k].size(), inputs[k].size()) << what << " input " << k;
    Vec numeric(inputs[k].size());
    for (size_t j = 0; j < inputs[k].size(); ++j) {
      const double saved = inputs[k][j];
      inputs[k][j] = saved + h;
      const double lp = loss(inputs);
      inputs[k][j] = saved - h;
      const double lm = loss(inputs);
      inputs[k][j] = saved;
      numeric[j] = (lp - lm) / (2 * h);
    }
    EXPECT_LT(maxRelError(analytic[k], numeric), tol) << what << ": gradient of input " << k;
  }
}

} // namespace nng::cpu::testing
