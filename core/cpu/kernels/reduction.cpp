// Sum/mean/max and softmax/log_softmax CPU kernels (see reduction.h).
#include "core/cpu/kernels/reduction.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/kernels/strided.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// x's strides, and y's strides read over x's shape (0 along the reduced axes).
struct ReduceShape {
  int64_t xStr[kMaxRank], yStr[kMaxRank];
  int64_t outCount = 1, groupSize = 1; // elements of y, elements reduced into each

  ReduceShape(const Dims &xS, uint32_t mask) {
    NNG_CHECK(mask >> xS.rank == 0, "reduction axes mask has bits past the rank");
    Dims yKeep = xS;
    for (int i = 0; i < xS.rank; ++i) {
      if (mask >> i & 1u) {
        yKeep[i] = 1;
        groupSize *= xS[i];
      } else {
        outCount *= xS[i];
      }
    }
    contiguousStrides(xS, xStr);
    broadcastStrides(yKeep, xS, yStr);
  }
};

template <typename T> struct SumInto {
  using State = double;
  T *y;
  const T *x;
  double scale;
  State init() const { return 0; }
  void add(State &s, int64_t o1, int64_t, int64_t) const { s += x[o1]; }
  void done(int64_t o0, const State &s) const { y[o0] = T(s * scale); }
};

template <typename T> void sumScaled(T *y, const T *x, const Dims &xS, uint32_t mask, bool mean) {
  const ReduceShape r(xS, mask);
  const double scale = mean ? 1.0 / double(r.groupSize) : 1.0;
  if (r.outCount == 1) {
    y[0] = T(blockedSum(r.groupSize, [x](int64_t i) { return double(x[i]); }) * scale);
    return;
  }
  reduceLoop(makeLoop(xS, {r.yStr, r.xStr}), SumInto<T>{y, x, scale});
}

template <typename T>
void broadcastBack(T *dx, const T *dy, const Dims &xS, uint32_t mask, double scale) {
  const ReduceShape r(xS, mask);
  const StridedLoop l = makeLoop(xS, {r.xStr, r.yStr});
  const int last = l.rank - 1;
  const int64_t sy = l.rank ? l.stride[1][last] : 0;
  const T s = T(scale);
  forEachRun(l, [&](const int64_t *off, int64_t cnt) {
    T *o = dx + off[0];
    const T *g = dy + off[1];
    if (sy == 0) {
      const T v = *g * s;
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = v;
    } else {
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = g[j * sy] * s;
    }
  });
}

// Tracks the first maximum (or the first NaN) and where it is.
template <typename T> struct MaxState {
  T best;
  int64_t at;
};

template <typename T> struct MaxPolicy {
  using State = MaxState<T>;
  const T *x;
  T *y;  // forward: the maxima
  T *dx; // backward: routes dy to the argmax
  const T *dy;
  State init() const { return {-std::numeric_limits<T>::infinity(), -1}; }
  void add(State &s, int64_t o1, int64_t, int64_t) const {
    const T v = x[o1];
    // The best stays once it is NaN (best == best is false then).
    if (s.at < 0 || v > s.best || (v != v && s.best == s.best)) {
      s.best = v;
      s.at = o1;
    }
  }
  void done(int64_t o0, const State &s) const {
    if (y)
      y[o0] = s.best;
    if (dx && s.at >= 0)
      dx[s.at] = dy[o0];
  }
};

template <typename T>
void maxImpl(T *y, T *dx, const T *dy, const T *x, const Dims &xS, uint32_t mask) {
  const ReduceShape r(xS, mask);
  reduceLoop(makeLoop(xS, {r.yStr, r.xStr}), MaxPolicy<T>{x, y, dx, dy});
}

// Calls row(base) for every [outer, inner] position; elements of the row are at
// base + k * inner for k < axisLen.
template <typename F> void forRows(int64_t outer, int64_t axisLen, int64_t inner, F row) {
  const int64_t rows = outer * inner;
#pragma omp parallel for if (rows * axisLen >= kParallelMin && rows > 1) schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    row(r / inner * axisLen * inner + r % inner);
}

} // namespace

template <typename T> void sum_fwd(T *y, const T *x, const Dims &xS, uint32_t mask) {
  sumScaled(y, x, xS, mask, false);
}
template <typename T> void sum_bwd(T *dx, const T *dy, const Dims &xS, uint32_t mask) {
  broadcastBack(dx, dy, xS, mask, 1.0);
}
template <typename T> void mean_fwd(T *y, const T *x, const Dims &xS, uint32_t mask) {
  sumScaled(y, x, xS, mask, true);
}
template <typename T> void mean_bwd(T *dx, const T *dy, const Dims &xS, uint32_t mask) {
  broadcastBack(dx, dy, xS, mask, 1.0 / double(ReduceShape(xS, mask).groupSize));
}

template <typename T> void max_fwd(T *y, const T *x, const Dims &xS, uint32_t mask) {
  maxImpl<T>(y, nullptr, nullptr, x, xS, mask);
}
template <typename T> void max_bwd(T *dx, const T *dy, const T *x, const Dims &xS, uint32_t mask) {
  std::fill(dx, dx + xS.numel(), T(0));
  maxImpl<T>(nullptr, dx, dy, x, xS, mask);
}

template <typename T>
void softmax_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner) {
  forRows(outer, axisLen, inner, [=](int64_t b) {
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t k = 0; k < axisLen; ++k)
      m = std::max(m, x[b + k * inner]);
    double s = 0;
    for (int64_t k = 0; k < axisLen; ++k) {
      const T e = std::exp(x[b + k * inner] - m);
      y[b + k * inner] = e;
      s += e;
    }
    const T inv = T(1.0 / s);
    for (int64_t k = 0; k < axisLen; ++k)
      y[b + k * inner] *= inv;
  });
}

template <typename T>
void softmax_bwd(T *dx, const T *dy, const T *y, int64_t outer, int64_t axisLen, int64_t inner) {
  forRows(outer, axisLen, inner, [=](int64_t b) {
    double dot = 0;
    for (int64_t k = 0; k < axisLen; ++k)
      dot += double(dy[b + k * inner]) * y[b + k * inner];
    const T d = T(dot);
    for (int64_t k = 0; k < axisLen; ++k)
      dx[b + k * inner] = y[b + k * inner] * (dy[b + k * inner] - d);
  });
}

template <typename T>
void log_softmax_fwd(T *y, const T *x, int64_t outer, int64_t axisLen, int64_t inner) {
  forRows(outer, axisLen, inner, [=](int64_t b) {
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t k = 0; k < axisLen; ++k)
      m = std::max(m, x[b + k * inner]);
    double s = 0;
    for (int64_t k = 0; k < axisLen; ++k)
      s += std::exp(x[b + k * inner] - m);
    const T shift = m + T(std::log(s));
    for (int64_t k = 0; k < axisLen; ++k)
      y[b + k * inner] = x[b + k * inner] - shift;
  });
}

template <typename T>
void log_softmax_bwd(T *dx, const T *dy, const T *y, int64_t outer, int64_t axisLen,
                     int64_t inner) {
  forRows(outer, axisLen, inner, [=](int64_t b) {
    double s = 0;
    for (int64_t k = 0; k < axisLen; ++k)
      s += dy[b + k * inner];
    const T g = T(s);
    for (int64_t k = 0; k < axisLen; ++k)
      dx[b + k * inner] = dy[b + k * inner] - std::exp(y[b + k * inner]) * g;
  });
}

#define NNG_INSTANTIATE(T)                                                                         \
  template void sum_fwd<T>(T *, const T *, const Dims &, uint32_t);                                \
  template void sum_bwd<T>(T *, const T *, const Dims &, uint32_t);                                \
  template void mean_fwd<T>(T *, const T *, const Dims &, uint32_t);                               \
  template void mean_bwd<T>(T *, const T *, const Dims &, uint32_t);                               \
  template void max_fwd<T>(T *, const T *, const Dims &, uint32_t);                                \
  template void max_bwd<T>(T *, const T *, const T *, const Dims &, uint32_t);                     \
  template void softmax_fwd<T>(T *, const T *, int64_t, int64_t, int64_t);                         \
  template void softmax_bwd<T>(T *, const T *, const T *, int64_t, int64_t, int64_t);              \
  template void log_softmax_fwd<T>(T *, const T *, int64_t, int64_t, int64_t);                     \
  template void log_softmax_bwd<T>(T *, const T *, const T *, int64_t, int64_t, int64_t);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
