// Elementwise CPU kernels (see elementwise.h): unary maps, broadcasting binary ops
// and their reductions, casts and f16/bf16 rounding.
#include "core/cpu/kernels/elementwise.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/cpu/kernels/scalar_math.h"
#include "core/cpu/kernels/strided.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

// ---- drivers ----------------------------------------------------------------------

template <typename T, typename F> void mapUnary(T *y, const T *x, int64_t n, F f) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = f(x[i]);
}

template <typename T, typename F> void mapGrad(T *dx, const T *dy, const T *s, int64_t n, F f) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    dx[i] = f(dy[i], s[i]);
}

template <typename T, typename F>
void binaryFwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS, F f) {
  if (aS == bS) {
    const int64_t n = aS.numel();
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
    for (int64_t i = 0; i < n; ++i)
      out[i] = f(a[i], b[i]);
    return;
  }
  const Dims oS = broadcastShape(aS, bS);
  int64_t so[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  contiguousStrides(oS, so);
  broadcastStrides(aS, oS, sa);
  broadcastStrides(bS, oS, sb);
  const StridedLoop l = makeLoop(oS, {so, sa, sb});
  const int last = l.rank - 1;
  const int64_t ia = l.rank ? l.stride[1][last] : 0, ib = l.rank ? l.stride[2][last] : 0;
  // The output is contiguous, so its innermost stride is 1; specialize the operands'
  // innermost strides so the common cases vectorize.
  forEachRun(l, [&](const int64_t *off, int64_t cnt) {
    T *o = out + off[0];
    const T *pa = a + off[1], *pb = b + off[2];
    if (ia == 1 && ib == 1) {
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = f(pa[j], pb[j]);
    } else if (ia == 1 && ib == 0) {
      const T bv = *pb;
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = f(pa[j], bv);
    } else if (ia == 0 && ib == 1) {
      const T av = *pa;
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = f(av, pb[j]);
    } else {
      for (int64_t j = 0; j < cnt; ++j)
        o[j] = f(pa[j * ia], pb[j * ib]);
    }
  });
}

template <typename T, typename F> struct SumPolicy {
  using State = double;
  T *g;
  F f;
  State init() const { return 0; }
  void add(State &s, int64_t o1, int64_t o2, int64_t o3) const { s += f(o1, o2, o3); }
  void done(int64_t o0, const State &s) const { g[o0] = T(s); }
};

// g (of shape gS, broadcastable to oS) = sum over the broadcast dims of
// f(o1, o2, o3), where o1 indexes a contiguous oS tensor (the upstream gradient) and
// o2 / o3 index operands of shapes aS / bS read as oS.
template <typename T, typename F>
void gradTo(T *g, const Dims &gS, const Dims &oS, const Dims &aS, const Dims &bS, F f) {
  if (!g)
    return;
  if (aS == bS && gS.numel() == oS.numel()) {
    const int64_t n = oS.numel();
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
    for (int64_t i = 0; i < n; ++i)
      g[i] = T(f(i, i, i));
    return;
  }
  int64_t sg[kMaxRank], so[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  broadcastStrides(gS, oS, sg);
  contiguousStrides(oS, so);
  broadcastStrides(aS, oS, sa);
  broadcastStrides(bS, oS, sb);
  const StridedLoop l = makeLoop(oS, {sg, so, sa, sb});
  if (gS.numel() == oS.numel()) {
    const int last = l.rank - 1;
    const int64_t s0 = l.rank ? l.stride[0][last] : 0, s1 = l.rank ? l.stride[1][last] : 0;
    const int64_t s2 = l.rank ? l.stride[2][last] : 0, s3 = l.rank ? l.stride[3][last] : 0;
    forEachRun(l, [&](const int64_t *off, int64_t cnt) {
      for (int64_t j = 0; j < cnt; ++j)
        g[off[0] + j * s0] = T(f(off[1] + j * s1, off[2] + j * s2, off[3] + j * s3));
    });
    return;
  }
  reduceLoop(l, SumPolicy<T, F>{g, f});
}

// ---- scalar math --------------------------------------------------------------------

// Rounds a finite double once to a binary format with `mant` fraction bits and
// minimum normal exponent `emin`; past `maxFinite` it overflows to inf.
double roundToFormat(double x, int mant, int emin, double maxFinite) {
  if (!std::isfinite(x) || x == 0)
    return x;
  const int e = std::max(std::ilogb(x), emin);
  const double ulp = std::ldexp(1.0, e - mant);
  const double r = std::nearbyint(x / ulp) * ulp; // default mode: nearest even
  return std::fabs(r) > maxFinite ? std::copysign(HUGE_VAL, x) : r;
}
constexpr double kHalfMax = 65504.0;
constexpr double kBf16Max = 3.3895313892515355e38; // (2 - 2^-7) * 2^127

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
float floatOf(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

} // namespace

// ---- unary ------------------------------------------------------------------------

template <typename T> void neg_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return -v; });
}
template <typename T> void neg_bwd(T *dx, const T *dy, int64_t n) {
  mapUnary(dx, dy, n, [](T g) { return -g; });
}

template <typename T> void relu_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return v > T(0) ? v : T(0); });
}
template <typename T> void relu_bwd(T *dx, const T *dy, const T *x, int64_t n) {
  mapGrad(dx, dy, x, n, [](T g, T v) { return v > T(0) ? g : T(0); });
}

template <typename T> void leaky_relu_fwd(T *y, const T *x, int64_t n, double alpha) {
  const T a = T(alpha);
  mapUnary(y, x, n, [a](T v) { return v > T(0) ? v : a * v; });
}
template <typename T> void leaky_relu_bwd(T *dx, const T *dy, const T *x, int64_t n, double alpha) {
  const T a = T(alpha);
  mapGrad(dx, dy, x, n, [a](T g, T v) { return v > T(0) ? g : a * g; });
}

template <typename T> void sigmoid_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return sigmoidOf(v); });
}
template <typename T> void sigmoid_bwd(T *dx, const T *dy, const T *y, int64_t n) {
  mapGrad(dx, dy, y, n, [](T g, T s) { return g * s * (T(1) - s); });
}

template <typename T> void tanh_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return std::tanh(v); });
}
template <typename T> void tanh_bwd(T *dx, const T *dy, const T *y, int64_t n) {
  mapGrad(dx, dy, y, n, [](T g, T t) { return g * (T(1) - t * t); });
}

template <typename T> void gelu_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return geluOf(v); });
}
template <typename T> void gelu_bwd(T *dx, const T *dy, const T *x, int64_t n) {
  mapGrad(dx, dy, x, n, [](T g, T v) { return g * geluGradOf(v); });
}

template <typename T> void exp_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return std::exp(v); });
}
template <typename T> void exp_bwd(T *dx, const T *dy, const T *y, int64_t n) {
  mapGrad(dx, dy, y, n, [](T g, T e) { return g * e; });
}

template <typename T> void log_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return std::log(v); });
}
template <typename T> void log_bwd(T *dx, const T *dy, const T *x, int64_t n) {
  mapGrad(dx, dy, x, n, [](T g, T v) { return g / v; });
}

template <typename T> void sqrt_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return std::sqrt(v); });
}
template <typename T> void sqrt_bwd(T *dx, const T *dy, const T *y, int64_t n) {
  mapGrad(dx, dy, y, n, [](T g, T r) { return g / (T(2) * r); });
}

template <typename T> void abs_fwd(T *y, const T *x, int64_t n) {
  mapUnary(y, x, n, [](T v) { return std::abs(v); });
}
template <typename T> void abs_bwd(T *dx, const T *dy, const T *x, int64_t n) {
  mapGrad(dx, dy, x, n, [](T g, T v) { return v > T(0) ? g : v < T(0) ? -g : T(0); });
}

// ---- binary -----------------------------------------------------------------------

template <typename T> void add_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return u + v; });
}
template <typename T> void add_bwd(T *da, T *db, const T *dout, const Dims &aS, const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  auto g = [dout](int64_t o, int64_t, int64_t) { return dout[o]; };
  gradTo(da, aS, oS, aS, bS, g);
  gradTo(db, bS, oS, aS, bS, g);
}

template <typename T> void sub_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return u - v; });
}
template <typename T> void sub_bwd(T *da, T *db, const T *dout, const Dims &aS, const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS, [dout](int64_t o, int64_t, int64_t) { return dout[o]; });
  gradTo(db, bS, oS, aS, bS, [dout](int64_t o, int64_t, int64_t) { return -dout[o]; });
}

template <typename T> void mul_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return u * v; });
}
template <typename T>
void mul_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS, [=](int64_t o, int64_t, int64_t ib) { return dout[o] * b[ib]; });
  gradTo(db, bS, oS, aS, bS, [=](int64_t o, int64_t ia, int64_t) { return dout[o] * a[ia]; });
}

template <typename T> void div_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return u / v; });
}
template <typename T>
void div_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS, [=](int64_t o, int64_t, int64_t ib) { return dout[o] / b[ib]; });
  gradTo(db, bS, oS, aS, bS,
         [=](int64_t o, int64_t ia, int64_t ib) { return -dout[o] * a[ia] / (b[ib] * b[ib]); });
}

namespace {
// The share of the gradient a gets from max(a, b): 1, 1/2 at a tie, 0.
template <typename T> T maxShare(T a, T b) { return a > b ? T(1) : a == b ? T(0.5) : T(0); }
} // namespace

template <typename T>
void maximum_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  // a != a is a NaN test; b's NaN falls through to b.
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return (u != u || u > v) ? u : v; });
}
template <typename T>
void maximum_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aS,
                 const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS,
         [=](int64_t o, int64_t ia, int64_t ib) { return dout[o] * maxShare(a[ia], b[ib]); });
  gradTo(db, bS, oS, aS, bS,
         [=](int64_t o, int64_t ia, int64_t ib) { return dout[o] * maxShare(b[ib], a[ia]); });
}

template <typename T>
void minimum_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return (u != u || u < v) ? u : v; });
}
template <typename T>
void minimum_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aS,
                 const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS,
         [=](int64_t o, int64_t ia, int64_t ib) { return dout[o] * maxShare(b[ib], a[ia]); });
  gradTo(db, bS, oS, aS, bS,
         [=](int64_t o, int64_t ia, int64_t ib) { return dout[o] * maxShare(a[ia], b[ib]); });
}

template <typename T> void pow_fwd(T *out, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  binaryFwd(out, a, b, aS, bS, [](T u, T v) { return std::pow(u, v); });
}
template <typename T>
void pow_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aS, const Dims &bS) {
  const Dims oS = broadcastShape(aS, bS);
  gradTo(da, aS, oS, aS, bS, [=](int64_t o, int64_t ia, int64_t ib) {
    const T e = b[ib];
    return e == T(0) ? T(0) : dout[o] * e * std::pow(a[ia], e - T(1));
  });
  gradTo(db, bS, oS, aS, bS, [=](int64_t o, int64_t ia, int64_t ib) {
    const T base = a[ia], e = b[ib];
    if (base == T(0) && e >= T(0))
      return T(0);
    return dout[o] * std::pow(base, e) * std::log(base);
  });
}

template <typename T> void sum_to_fwd(T *y, const T *x, const Dims &yS, const Dims &xS) {
  gradTo(y, yS, xS, xS, xS, [x](int64_t o, int64_t, int64_t) { return x[o]; });
}

// ---- casts ------------------------------------------------------------------------

// After F. Giesen's float_to_half_fast3_rtne: normal values are rebiased and rounded
// with integer arithmetic; subnormal halves let the FPU round by adding 0.5.
uint16_t floatToHalfBits(float x) {
  uint32_t f = bitsOf(x);
  const uint32_t sign = (f >> 16) & 0x8000u;
  f &= 0x7fffffffu;
  if (f >= 0x47800000u) // 2^16 and above, inf, NaN
    return uint16_t(sign | (f > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (f < 0x38800000u) { // below 2^-14: a subnormal half or zero
    // 0.5f has ulp 2^-24, the smallest half subnormal, so the sum rounds |x| to it.
    const float r = floatOf(f) + 0.5f;
    return uint16_t(sign | (bitsOf(r) - 0x3f000000u));
  }
  const uint32_t odd = (f >> 13) & 1u;
  f += (uint32_t(15 - 127) << 23) + 0xfffu + odd; // rebias, round half to even
  return uint16_t(sign | (f >> 13));              // a carry past 65504 lands on inf (0x7c00)
}

float halfBitsToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    const float mag = float(mant) * 0x1p-24f; // exact: mant < 2^10
    return floatOf(sign | bitsOf(mag));
  }
  if (exp == 31)
    return floatOf(sign | 0x7f800000u | (mant << 13));
  return floatOf(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToBf16Bits(float x) {
  const uint32_t f = bitsOf(x);
  if ((f & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((f >> 16) | 0x40u); // keep NaN quiet
  return uint16_t((f + 0x7fffu + ((f >> 16) & 1u)) >> 16);
}

float bf16BitsToFloat(uint16_t h) { return floatOf(uint32_t(h) << 16); }

template <typename To, typename From> void cast_fwd(To *y, const From *x, int64_t n) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, uint8_t>)
      y[i] = x[i] != From(0) ? 1 : 0; // bool: any non-zero is true
    else
      y[i] = static_cast<To>(x[i]);
  }
}

void cast_f32_to_f16_fwd(uint16_t *y, const float *x, int64_t n) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = floatToHalfBits(x[i]);
}
void cast_f16_to_f32_fwd(float *y, const uint16_t *x, int64_t n) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = halfBitsToFloat(x[i]);
}
void cast_f32_to_bf16_fwd(uint16_t *y, const float *x, int64_t n) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = floatToBf16Bits(x[i]);
}
void cast_bf16_to_f32_fwd(float *y, const uint16_t *x, int64_t n) {
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    y[i] = bf16BitsToFloat(x[i]);
}

template <typename T> void round_f16_fwd(T *y, const T *x, int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    mapUnary(y, x, n, [](float v) { return roundToHalf(v); });
  else
    mapUnary(y, x, n, [](T v) { return T(roundToFormat(double(v), 10, -14, kHalfMax)); });
}
template <typename T> void round_bf16_fwd(T *y, const T *x, int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    mapUnary(y, x, n, [](float v) { return roundToBf16(v); });
  else
    mapUnary(y, x, n, [](T v) { return T(roundToFormat(double(v), 7, -126, kBf16Max)); });
}

// ---- instantiations ---------------------------------------------------------------

#define NNG_UNARY(op, T) template void op##_fwd<T>(T *, const T *, int64_t);
#define NNG_BINARY(op, T)                                                                          \
  template void op##_fwd<T>(T *, const T *, const T *, const Dims &, const Dims &);
#define NNG_BINARY_BWD(op, T)                                                                      \
  template void op##_bwd<T>(T *, T *, const T *, const T *, const T *, const Dims &, const Dims &);
#define NNG_INSTANTIATE(T)                                                                         \
  NNG_UNARY(neg, T)                                                                                \
  NNG_UNARY(relu, T)                                                                               \
  NNG_UNARY(sigmoid, T)                                                                            \
  NNG_UNARY(tanh, T)                                                                               \
  NNG_UNARY(gelu, T) NNG_UNARY(exp, T) NNG_UNARY(log, T) NNG_UNARY(sqrt, T) NNG_UNARY(abs, T)      \
      NNG_UNARY(round_f16, T) NNG_UNARY(round_bf16, T) template void                               \
      neg_bwd<T>(T *, const T *, int64_t);                                                         \
  template void relu_bwd<T>(T *, const T *, const T *, int64_t);                                   \
  template void sigmoid_bwd<T>(T *, const T *, const T *, int64_t);                                \
  template void tanh_bwd<T>(T *, const T *, const T *, int64_t);                                   \
  template void gelu_bwd<T>(T *, const T *, const T *, int64_t);                                   \
  template void exp_bwd<T>(T *, const T *, const T *, int64_t);                                    \
  template void log_bwd<T>(T *, const T *, const T *, int64_t);                                    \
  template void sqrt_bwd<T>(T *, const T *, const T *, int64_t);                                   \
  template void abs_bwd<T>(T *, const T *, const T *, int64_t);                                    \
  template void leaky_relu_fwd<T>(T *, const T *, int64_t, double);                                \
  template void leaky_relu_bwd<T>(T *, const T *, const T *, int64_t, double);                     \
  NNG_BINARY(add, T)                                                                               \
  NNG_BINARY(sub, T)                                                                               \
  NNG_BINARY(mul, T)                                                                               \
  NNG_BINARY(div, T)                                                                               \
  NNG_BINARY(maximum, T) NNG_BINARY(minimum, T) NNG_BINARY(pow, T) template void add_bwd<T>(       \
      T *, T *, const T *, const Dims &, const Dims &);                                            \
  template void sub_bwd<T>(T *, T *, const T *, const Dims &, const Dims &);                       \
  NNG_BINARY_BWD(mul, T)                                                                           \
  NNG_BINARY_BWD(div, T)                                                                           \
  NNG_BINARY_BWD(maximum, T)                                                                       \
  NNG_BINARY_BWD(minimum, T)                                                                       \
  NNG_BINARY_BWD(pow, T) template void sum_to_fwd<T>(T *, const T *, const Dims &, const Dims &);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

#define NNG_CAST(To, From) template void cast_fwd<To, From>(To *, const From *, int64_t);
#define NNG_CAST_FROM(From)                                                                        \
  NNG_CAST(float, From)                                                                            \
  NNG_CAST(double, From) NNG_CAST(int32_t, From) NNG_CAST(int64_t, From) NNG_CAST(uint8_t, From)
NNG_CAST_FROM(float)
NNG_CAST_FROM(double)
NNG_CAST_FROM(int32_t)
NNG_CAST_FROM(int64_t)
NNG_CAST_FROM(uint8_t)

} // namespace nng::cpu
