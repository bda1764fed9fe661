// Convolution and pooling CPU kernels (see conv.h).
#include "core/cpu/kernels/conv.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <omp.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/cpu/kernels/linalg.h"
#include "core/cpu/kernels/scalar_math.h"
#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

int64_t colSize(int64_t c, int64_t height, int64_t width, int64_t kh, int64_t kw, int64_t stride,
                int64_t pad) {
  return c * kh * kw * convOutSize(height, kh, stride, pad) * convOutSize(width, kw, stride, pad);
}

// Forward: images in parallel when every thread gets at least one and the batch's
// column matrices are big enough to be worth a fork. One GEMM per image: OpenBLAS's
// small-matrix kernels run a [f, c*kh*kw] x [c*kh*kw, outH*outW] product of a CNN layer
// faster than one wide product over several images' columns (measured: 88 against 62
// GFLOP/s for 14x14 planes), so batching images into one GEMM does not pay.
int64_t imagesInFlight(int64_t n, int64_t colElems) {
  const int64_t threads = omp_get_max_threads();
  return n >= threads && threads > 1 && n * colElems >= kParallelMin ? threads : 1;
}

// Backward: the batch splits into at most kConvGroups groups of consecutive images,
// a split that depends on n only. Each group sums its images' weight gradients in
// order; the group sums are then added in group order. So the result is the same
// whether groups run in parallel or not, on any number of threads.
constexpr int64_t kConvGroups = 8;

// dweight = dz col^T runs as (dz^T)^T col^T, from a transposed copy of dz, when col
// has at least this many rows (c*kh*kw): OpenBLAS's small-matrix kernels take 18 us
// for that form of a 14x14 layer's product (32x144x196) against 30 us for dz col^T,
// while the copy costs f*outH*outW moves, which only a GEMM with many rows repays (the
// first layer of a CNN, 9 rows, runs 2.5x slower with it).
constexpr int64_t kTransposedDzMinRows = 64;

struct BwdPlan {
  int64_t perGroup = 0, groups = 0, slots = 1; // slots: groups in flight at once

  BwdPlan(int64_t n, int64_t colElems) {
    if (n == 0)
      return;
    const int64_t target = std::min(n, kConvGroups);
    perGroup = (n + target - 1) / target;
    groups = (n + perGroup - 1) / perGroup;
    const int64_t threads = omp_get_max_threads();
    slots = threads > 1 && groups > 1 && n * colElems >= kParallelMin ? threads : 1;
  }
};

// dst = act(src + b): the fused conv's epilogue on one output plane, with the scalar
// math of the unfused add and activation kernels.
template <typename T>
void biasActivate(T *dst, const T *src, int64_t len, T b, Activation act) {
  switch (act) {
  case Activation::None:
    for (int64_t i = 0; i < len; ++i)
      dst[i] = src[i] + b;
    break;
  case Activation::Relu:
    for (int64_t i = 0; i < len; ++i) {
      const T v = src[i] + b;
      dst[i] = v > T(0) ? v : T(0);
    }
    break;
  case Activation::Gelu:
    for (int64_t i = 0; i < len; ++i)
      dst[i] = geluOf(src[i] + b);
    break;
  case Activation::Sigmoid:
    for (int64_t i = 0; i < len; ++i)
      dst[i] = sigmoidOf(src[i] + b);
    break;
  case Activation::Tanh:
    for (int64_t i = 0; i < len; ++i)
      dst[i] = std::tanh(src[i] + b);
    break;
  }
}

// dz = dy * act'(y) on one plane, as relu_bwd, sigmoid_bwd and tanh_bwd compute it
// (y > 0 exactly where the pre-activation is). Not those kernels themselves (nor
// fused_dense_act_bwd, which calls them): they are OpenMP loops, and entering one per
// image made the first conv's weight gradient 20% slower.
template <typename T>
void activationGrad(T *dz, const T *dy, const T *y, int64_t len, Activation act) {
  switch (act) {
  case Activation::Relu:
    for (int64_t i = 0; i < len; ++i) {
      const T g = dy[i]; // loaded unconditionally, so the select vectorizes
      dz[i] = y[i] > T(0) ? g : T(0);
    }
    break;
  case Activation::Sigmoid:
    for (int64_t i = 0; i < len; ++i)
      dz[i] = dy[i] * y[i] * (T(1) - y[i]);
    break;
  case Activation::Tanh:
    for (int64_t i = 0; i < len; ++i)
      dz[i] = dy[i] * (T(1) - y[i] * y[i]);
    break;
  default:
    std::memcpy(dz, dy, static_cast<size_t>(len) * sizeof(T));
  }
}

} // namespace

int64_t conv2d_workspace_size(int64_t n, int64_t c, int64_t height, int64_t width, int64_t f,
                              int64_t kh, int64_t kw, int64_t stride, int64_t pad) {
  const int64_t cs = colSize(c, height, width, kh, kw, stride, pad);
  const int64_t ys = f * convOutSize(height, kh, stride, pad) * convOutSize(width, kw, stride, pad);
  // Forward: a col matrix per image in flight; backward: a col matrix (for dweight,
  // then reused for dx's column gradient) and one image's dz and its transpose per
  // group in flight.
  return std::max(cs * imagesInFlight(n, cs), (cs + 2 * ys) * BwdPlan(n, cs).slots);
}

template <typename T>
void im2col(T *col, const T *x, int64_t c, int64_t height, int64_t width, int64_t kh, int64_t kw,
            int64_t stride, int64_t pad) {
  const int64_t oh = convOutSize(height, kh, stride, pad), ow = convOutSize(width, kw, stride, pad);
  const int64_t rows = c * kh * kw;
  // "Same" geometry (stride 1, output as wide as the input): output (oy, ox) of a tap
  // reads input (oy + ki - pad, ox + kj - pad), a constant shift of the flat index.
  // So a tap's whole valid block is one copy, after which the entries that wrapped
  // around a row edge are zeroed: one memcpy per tap instead of one per output row,
  // whose call overhead dominated on 14-wide planes.
  const bool flatShift = stride == 1 && ow == width;
#pragma omp parallel for if (rows * oh * ow >= kParallelMin) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t ch = r / (kh * kw), ki = r / kw % kh, kj = r % kw;
    const T *plane = x + ch * height * width;
    T *out = col + r * oh * ow;
    if (flatShift) {
      const int64_t dy = ki - pad, dx = kj - pad;
      const int64_t y0 = std::clamp<int64_t>(-dy, 0, oh), y1 = std::clamp<int64_t>(height - dy, y0, oh);
      std::fill(out, out + y0 * ow, T(0));
      std::fill(out + y1 * ow, out + oh * ow, T(0));
      // Valid rows y0..y1, less the first -dx or last dx entries, which would read
      // outside the plane; those are wrapped entries and zeroed below anyway.
      const int64_t from = y0 * ow + std::max<int64_t>(0, -dx);
      const int64_t to = y1 * ow - std::max<int64_t>(0, dx);
      if (to > from)
        std::memcpy(out + from, plane + from + dy * width + dx,
                    static_cast<size_t>(to - from) * sizeof(T));
      for (int64_t oy = y0; oy < y1; ++oy) {
        T *o = out + oy * ow;
        for (int64_t ox = 0; ox < -dx && ox < ow; ++ox)
          o[ox] = T(0);
        for (int64_t ox = std::max<int64_t>(0, ow - dx); ox < ow; ++ox)
          o[ox] = T(0);
      }
      continue;
    }
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t iy = oy * stride - pad + ki;
      T *o = out + oy * ow;
      if (iy < 0 || iy >= height) {
        std::fill(o, o + ow, T(0));
        continue;
      }
      const T *src = plane + iy * width;
      // The outputs whose input column ix = ox * stride - pad + kj lies inside the row
      // form one range [lo, hi): zeros around a copy, without a test per element.
      const int64_t lo = std::min(ow, std::max<int64_t>(0, (pad - kj + stride - 1) / stride));
      const int64_t hi = std::max(lo, std::min(ow, (width + pad - kj + stride - 1) / stride));
      std::fill(o, o + lo, T(0));
      for (int64_t ox = lo; ox < hi; ++ox)
        o[ox] = src[ox * stride - pad + kj];
      std::fill(o + hi, o + ow, T(0));
    }
  }
}

template <typename T>
void col2im(T *x, const T *col, int64_t c, int64_t height, int64_t width, int64_t kh, int64_t kw,
            int64_t stride, int64_t pad) {
  const int64_t oh = convOutSize(height, kh, stride, pad), ow = convOutSize(width, kw, stride, pad);
  // One task per channel: a channel's plane only receives its own rows, added in a
  // fixed order.
#pragma omp parallel for if (c * kh * kw * oh * ow >= kParallelMin && c > 1) schedule(static)
  for (int64_t ch = 0; ch < c; ++ch) {
    T *plane = x + ch * height * width;
    std::fill(plane, plane + height * width, T(0));
    for (int64_t ki = 0; ki < kh; ++ki)
      for (int64_t kj = 0; kj < kw; ++kj) {
        const T *in = col + ((ch * kh + ki) * kw + kj) * oh * ow;
        // As in im2col: the outputs that land inside a row form one range.
        const int64_t lo = std::min(ow, std::max<int64_t>(0, (pad - kj + stride - 1) / stride));
        const int64_t hi = std::max(lo, std::min(ow, (width + pad - kj + stride - 1) / stride));
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t iy = oy * stride - pad + ki;
          if (iy < 0 || iy >= height)
            continue;
          const T *src = in + oy * ow;
          if (stride == 1) { // unit stride: a loop the compiler vectorizes
            T *dst = plane + iy * width + kj - pad;
            for (int64_t ox = lo; ox < hi; ++ox)
              dst[ox] += src[ox];
          } else {
            T *dst = plane + iy * width;
            for (int64_t ox = lo; ox < hi; ++ox)
              dst[ox * stride - pad + kj] += src[ox];
          }
        }
      }
  }
}

template <typename T>
void conv2d_fwd(T *y, const T *x, const T *weight, int64_t n, int64_t c, int64_t height,
                int64_t width, int64_t f, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                T *workspace, const T *bias, Activation act) {
  NNG_CHECK(stride >= 1 && pad >= 0 && height + 2 * pad >= kh && width + 2 * pad >= kw,
            "conv2d: bad window");
  const int64_t ohw = convOutSize(height, kh, stride, pad) * convOutSize(width, kw, stride, pad);
  const int64_t ckk = c * kh * kw, cs = ckk * ohw;
  const int64_t inFlight = imagesInFlight(n, cs);
  const bool epilogue = bias || act != Activation::None;
#pragma omp parallel for if (inFlight > 1) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    T *col = workspace + (inFlight > 1 ? omp_get_thread_num() : 0) * cs;
    T *yi = y + i * f * ohw;
    im2col(col, x + i * c * height * width, c, height, width, kh, kw, stride, pad);
    gemm(yi, weight, col, f, ohw, ckk, false, false, T(1), T(0));
    // The fused conv's bias and activation, while the image's output is in cache.
    if (epilogue)
      for (int64_t o = 0; o < f; ++o)
        biasActivate(yi + o * ohw, yi + o * ohw, ohw, bias ? bias[o] : T(0), act);
  }
}

template <typename T>
void conv2d_bwd(T *dx, T *dweight, const T *dy, const T *x, const T *weight, int64_t n, int64_t c,
                int64_t height, int64_t width, int64_t f, int64_t kh, int64_t kw, int64_t stride,
                int64_t pad, T *workspace, const T *y, Activation act) {
  NNG_CHECK(act != Activation::Gelu, "conv2d_bwd: gelu needs the pre-activation");
  NNG_CHECK(act == Activation::None || y, "conv2d_bwd: the activation's gradient needs y");
  const int64_t ohw = convOutSize(height, kh, stride, pad) * convOutSize(width, kw, stride, pad);
  const int64_t ckk = c * kh * kw, cs = ckk * ohw, chw = c * height * width, wSize = f * ckk;
  const BwdPlan plan(n, cs);
  if (dweight && n == 0)
    std::fill(dweight, dweight + wSize, T(0));
  // The weight-gradient sums of groups 1, 2, ... (group 0 sums straight into dweight):
  // at most 7 weight-sized buffers, small beside the activations.
  std::vector<T> groupSums(dweight && plan.groups > 1 ? (plan.groups - 1) * wSize : 0);
#pragma omp parallel for if (plan.slots > 1) schedule(static)
  for (int64_t g = 0; g < plan.groups; ++g) {
    // col holds an image's im2col for dweight, then its column gradient for dx; dzT
    // the transposed dz for dweight's GEMM (kTransposedDzMinRows).
    T *col = workspace + (cs + 2 * f * ohw) * (plan.slots > 1 ? omp_get_thread_num() : 0);
    T *dzBuffer = col + cs, *dzT = dzBuffer + f * ohw;
    T *dwg = g == 0 ? dweight : groupSums.data() + (g - 1) * wSize;
    const int64_t first = g * plan.perGroup, last = std::min(n, first + plan.perGroup);
    for (int64_t i = first; i < last; ++i) {
      // The gradient at the pre-activation: dy itself, or through act'(y).
      const T *dz = dy + i * f * ohw;
      if (act != Activation::None) {
        activationGrad(dzBuffer, dz, y + i * f * ohw, f * ohw, act);
        dz = dzBuffer;
      }
      if (dweight) {
        im2col(col, x + i * chw, c, height, width, kh, kw, stride, pad);
        const T beta = i == first ? T(0) : T(1);
        if (ckk >= kTransposedDzMinRows) {
          for (int64_t o = 0; o < f; ++o)
            for (int64_t q = 0; q < ohw; ++q)
              dzT[q * f + o] = dz[o * ohw + q];
          gemm(dwg, dzT, col, f, ckk, ohw, true, true, T(1), beta);
        } else {
          gemm(dwg, dz, col, f, ckk, ohw, false, true, T(1), beta);
        }
      }
      if (dx) {
        gemm(col, weight, dz, ckk, ohw, f, true, false, T(1), T(0));
        col2im(dx + i * chw, col, c, height, width, kh, kw, stride, pad);
      }
    }
  }
  if (dweight && plan.groups > 1) {
#pragma omp parallel for if (wSize * plan.groups >= kParallelMin) schedule(static)
    for (int64_t j = 0; j < wSize; ++j) {
      T s = dweight[j];
      for (int64_t g = 1; g < plan.groups; ++g)
        s += groupSums[(g - 1) * wSize + j];
      dweight[j] = s;
    }
  }
}

namespace {

// sum_k dy[k] * act'(y[k]) over one plane, in kLanes running sums (element k goes to
// lane k % kLanes) added at the end: independent lanes let the compiler vectorize
// what a single running sum would serialize, and the order is still fixed.
constexpr int64_t kLanes = 16;

template <typename T, typename Term>
T laneSum(int64_t len, Term term) {
  T lanes[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= len; k += kLanes)
    for (int64_t l = 0; l < kLanes; ++l)
      lanes[l] += term(k + l);
  for (int64_t l = 0; k + l < len; ++l)
    lanes[l] += term(k + l);
  T s = 0;
  for (T v : lanes)
    s += v;
  return s;
}

template <typename T> T planeGradSum(const T *g, const T *v, int64_t len, Activation act) {
  switch (act) {
  case Activation::Relu:
    return laneSum<T>(len, [&](int64_t k) {
      const T gk = g[k]; // loaded unconditionally, so the select vectorizes
      return v[k] > T(0) ? gk : T(0);
    });
  case Activation::Sigmoid:
    return laneSum<T>(len, [&](int64_t k) { return g[k] * v[k] * (T(1) - v[k]); });
  case Activation::Tanh:
    return laneSum<T>(len, [&](int64_t k) { return g[k] * (T(1) - v[k] * v[k]); });
  default:
    return laneSum<T>(len, [&](int64_t k) { return g[k]; });
  }
}

} // namespace

template <typename T>
void conv2d_bias_bwd(T *dbias, const T *dy, const T *y, int64_t n, int64_t f, int64_t hw,
                     Activation act) {
  NNG_CHECK(act != Activation::Gelu, "conv2d_bias_bwd: gelu needs the pre-activation");
  NNG_CHECK(act == Activation::None || y, "conv2d_bias_bwd: the activation's gradient needs y");
  // One task per channel; each plane summed in T, the planes added in double in image
  // order: a fixed order on any number of threads.
#pragma omp parallel for if (n * f * hw >= kParallelMin && f > 1) schedule(static)
  for (int64_t o = 0; o < f; ++o) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t at = (i * f + o) * hw;
      sum += double(planeGradSum(dy + at, y ? y + at : nullptr, hw, act));
    }
    dbias[o] = T(sum);
  }
}

namespace {

// The first maximum of one window of a plane (index in the plane), -1 if the window
// holds only padding. A NaN wins and stays.
template <typename T>
int64_t windowArgmax(const T *plane, int64_t height, int64_t width, int64_t oy, int64_t ox,
                     int64_t kernel, int64_t stride, int64_t pad) {
  T best = -std::numeric_limits<T>::infinity();
  int64_t at = -1;
  for (int64_t ki = 0; ki < kernel; ++ki) {
    const int64_t iy = oy * stride - pad + ki;
    if (iy < 0 || iy >= height)
      continue;
    for (int64_t kj = 0; kj < kernel; ++kj) {
      const int64_t ix = ox * stride - pad + kj;
      if (ix < 0 || ix >= width)
        continue;
      const T v = plane[iy * width + ix];
      if (at < 0 || v > best || (v != v && best == best)) {
        best = v;
        at = iy * width + ix;
      }
    }
  }
  return at;
}

// windowArgmax for a window that lies inside the plane (no padding), without bounds
// checks and without branches on the data (random activations make `v > best`
// unpredictable): the hot case. Same answer: the first maximum in row-major order,
// or the first NaN, which nothing replaces.
template <typename T>
int64_t insideWindowArgmax(const T *plane, int64_t width, int64_t y0, int64_t x0,
                           int64_t kernel) {
  int64_t at = y0 * width + x0;
  T best = plane[at];
  for (int64_t ki = 0; ki < kernel; ++ki)
    for (int64_t kj = 0; kj < kernel; ++kj) {
      const int64_t i = (y0 + ki) * width + x0 + kj;
      const T v = plane[i];
      const bool take = (v > best) | ((v != v) & (best == best));
      best = take ? v : best;
      at = take ? i : at;
    }
  return at;
}

// Whether `later` replaces `first` as the maximum: strictly greater, or the first NaN.
template <typename T> inline bool replaces(T first, T later) {
  return (later > first) | ((later != later) & (first == first));
}

// `take ? b : a` through the bits, which compilers do not turn into a branch (they
// do for the ternary on floats, and random activations mispredict half the time).
template <typename T> inline T selectBits(bool take, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  Bits x, y;
  std::memcpy(&x, &a, sizeof(T));
  std::memcpy(&y, &b, sizeof(T));
  const Bits mask = Bits(0) - Bits(take);
  const Bits r = (y & mask) | (x & ~mask);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// The argmax of output (oy, ox): without padding every window lies inside the plane
// (floor mode), so the unchecked search applies.
template <typename T>
int64_t poolArgmax(const T *plane, int64_t height, int64_t width, int64_t oy, int64_t ox,
                   int64_t kernel, int64_t stride, int64_t pad) {
  if (pad == 0)
    return insideWindowArgmax(plane, width, oy * stride, ox * stride, kernel);
  return windowArgmax(plane, height, width, oy, ox, kernel, stride, pad);
}

} // namespace

namespace {

// The gradient of 2x2 window ox (stride 2) between rows r0 and r1: g[ox] goes to the
// window's first maximum in row-major order (a NaN wins, the first NaN stays), zeros
// to the other three. The horizontal pairs are compared first, then the two winners:
// a tie keeps the earlier element at each step, which is the row-major order.
template <typename T>
inline void window2x2Grad(T *d0, T *d1, const T *r0, const T *r1, const T *g, int64_t ox) {
  const T a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], e = r1[2 * ox + 1];
  const bool topRight = replaces(a, b), bottomRight = replaces(c, e);
  const bool lower = replaces(selectBits(topRight, a, b), selectBits(bottomRight, c, e));
  d0[2 * ox] = selectBits(!lower && !topRight, T(0), g[ox]);
  d0[2 * ox + 1] = selectBits(!lower && topRight, T(0), g[ox]);
  d1[2 * ox] = selectBits(lower && !bottomRight, T(0), g[ox]);
  d1[2 * ox + 1] = selectBits(lower && bottomRight, T(0), g[ox]);
}

// window2x2Grad for four windows at a time, where SSE2 is there (every x86-64): the
// compiler cannot vectorize the even/odd interleave of a row by itself, and the
// scalar loop took 4 cycles per input element. Returns the windows done (a multiple
// of 4); the caller finishes the rest with window2x2Grad. Same comparisons, so the
// same winners, ties and NaNs included.
template <typename T>
int64_t windows2x2GradVector(T *, T *, const T *, const T *, const T *, int64_t) {
  return 0;
}
#ifdef __SSE2__
// later replaces first: later > first, or later is the first NaN.
inline __m128 replacesMask(__m128 first, __m128 later) {
  return _mm_or_ps(_mm_cmpgt_ps(later, first),
                   _mm_and_ps(_mm_cmpunord_ps(later, later), _mm_cmpord_ps(first, first)));
}
inline __m128 selectMask(__m128 take, __m128 a, __m128 b) { // take ? b : a, per lane
  return _mm_or_ps(_mm_and_ps(take, b), _mm_andnot_ps(take, a));
}
template <>
int64_t windows2x2GradVector<float>(float *d0, float *d1, const float *r0, const float *r1,
                                    const float *g, int64_t ow) {
  int64_t ox = 0;
  for (; ox + 4 <= ow; ox += 4) {
    // Four windows: the even and odd columns of 8 elements of each row.
    const __m128 t0 = _mm_loadu_ps(r0 + 2 * ox), t1 = _mm_loadu_ps(r0 + 2 * ox + 4);
    const __m128 u0 = _mm_loadu_ps(r1 + 2 * ox), u1 = _mm_loadu_ps(r1 + 2 * ox + 4);
    const __m128 a = _mm_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 b = _mm_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 c = _mm_shuffle_ps(u0, u1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 e = _mm_shuffle_ps(u0, u1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 topRight = replacesMask(a, b), bottomRight = replacesMask(c, e);
    const __m128 lower =
        replacesMask(selectMask(topRight, a, b), selectMask(bottomRight, c, e));
    const __m128 gv = _mm_loadu_ps(g + ox);
    const __m128 upper = _mm_andnot_ps(lower, gv);  // g where the top pair wins
    const __m128 bottom = _mm_and_ps(lower, gv);    // g where the bottom pair wins
    const __m128 ga = _mm_andnot_ps(topRight, upper), gb = _mm_and_ps(topRight, upper);
    const __m128 gc = _mm_andnot_ps(bottomRight, bottom), ge = _mm_and_ps(bottomRight, bottom);
    // Interleave back: a b a b ... into row 0, c e c e ... into row 1.
    _mm_storeu_ps(d0 + 2 * ox, _mm_unpacklo_ps(ga, gb));
    _mm_storeu_ps(d0 + 2 * ox + 4, _mm_unpackhi_ps(ga, gb));
    _mm_storeu_ps(d1 + 2 * ox, _mm_unpacklo_ps(gc, ge));
    _mm_storeu_ps(d1 + 2 * ox + 4, _mm_unpackhi_ps(gc, ge));
  }
  return ox;
}
#endif

} // namespace

template <typename T>
void max_pool2d_fwd(T *y, int64_t *argmax, const T *x, int64_t n, int64_t c, int64_t height,
                    int64_t width, int64_t kernel, int64_t stride, int64_t pad) {
  stride = stride == 0 ? kernel : stride;
  const int64_t oh = convOutSize(height, kernel, stride, pad);
  const int64_t ow = convOutSize(width, kernel, stride, pad);
  const int64_t planes = n * c;
  // 2x2 stride-2 windows tiling the plane: the forward wants only values, and the
  // maximum of four does not depend on the order of comparison (any NaN wins), so it
  // takes the vertical pairs over whole rows, then the horizontal pairs over one
  // contiguous buffer: two long branch-free loops the compiler vectorizes.
  const bool twoByTwo = kernel == 2 && stride == 2 && pad == 0 && !argmax &&
                        height == 2 * oh && width == 2 * ow;
#pragma omp parallel if (planes * oh * ow * kernel * kernel >= kParallelMin)
  {
  // Per-thread scratch for the 2x2 case, allocated once per call, not once per plane.
  std::vector<T> pairs(twoByTwo ? static_cast<size_t>(oh * width) : 0);
#pragma omp for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T *in = x + p * height * width;
    if (twoByTwo) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        const T *r0 = in + 2 * oy * width, *r1 = r0 + width;
        T *t = pairs.data() + oy * width;
        for (int64_t j = 0; j < width; ++j)
          t[j] = selectBits(replaces(r0[j], r1[j]), r0[j], r1[j]);
      }
      T *out = y + p * oh * ow;
      for (int64_t k = 0; k < oh * ow; ++k)
        out[k] = selectBits(replaces(pairs[2 * k], pairs[2 * k + 1]), pairs[2 * k],
                            pairs[2 * k + 1]);
      continue;
    }
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t at = poolArgmax(in, height, width, oy, ox, kernel, stride, pad);
        const int64_t o = (p * oh + oy) * ow + ox;
        y[o] = at >= 0 ? in[at] : -std::numeric_limits<T>::infinity();
        if (argmax)
          argmax[o] = at;
      }
  }
  }
}

template <typename T>
void max_pool2d_bwd(T *dx, const T *dy, const int64_t *argmax, const T *x, int64_t n, int64_t c,
                    int64_t height, int64_t width, int64_t kernel, int64_t stride, int64_t pad) {
  NNG_CHECK(argmax || x, "max_pool2d_bwd needs the saved argmax or the input");
  stride = stride == 0 ? kernel : stride;
  const int64_t oh = convOutSize(height, kernel, stride, pad);
  const int64_t ow = convOutSize(width, kernel, stride, pad);
  const int64_t planes = n * c, hw = height * width;
  // Windows that tile the plane exactly (the usual 2x2 stride 2 on even sizes) cover
  // every input once: each window writes its own k*k gradients, no fill first.
  const bool tiles = pad == 0 && stride == kernel && height == oh * kernel && width == ow * kernel;
  const bool twoByTwo = tiles && kernel == 2 && !argmax;
#pragma omp parallel for if (planes * oh * ow * kernel * kernel >= kParallelMin) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T *d = dx + p * hw;
    if (twoByTwo) {
      // Each window's winner, recomputed from x, one pair of rows at a time.
      const T *in = x + p * hw;
      for (int64_t oy = 0; oy < oh; ++oy) {
        const T *r0 = in + 2 * oy * width, *g = dy + (p * oh + oy) * ow;
        T *d0 = d + 2 * oy * width;
        int64_t ox = windows2x2GradVector(d0, d0 + width, r0, r0 + width, g, ow);
        for (; ox < ow; ++ox)
          window2x2Grad(d0, d0 + width, r0, r0 + width, g, ox);
      }
      continue;
    }
    if (!tiles)
      std::fill(d, d + hw, T(0));
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t o = (p * oh + oy) * ow + ox;
        const int64_t at =
            argmax ? argmax[o]
                   : poolArgmax(x + p * hw, height, width, oy, ox, kernel, stride, pad);
        if (tiles) {
          for (int64_t ki = 0; ki < kernel; ++ki)
            std::fill_n(d + (oy * kernel + ki) * width + ox * kernel, kernel, T(0));
          d[at] = dy[o];
        } else if (at >= 0) {
          d[at] += dy[o];
        }
      }
  }
}

template <typename T>
void max_pool2d_bwd(T *dx, const T *dy, const int64_t *argmax, int64_t n, int64_t c, int64_t height,
                    int64_t width, int64_t kernel, int64_t stride, int64_t pad) {
  max_pool2d_bwd<T>(dx, dy, argmax, nullptr, n, c, height, width, kernel, stride, pad);
}

template <typename T>
void avg_pool2d_fwd(T *y, const T *x, int64_t n, int64_t c, int64_t height, int64_t width,
                    int64_t kernel, int64_t stride, int64_t pad) {
  stride = stride == 0 ? kernel : stride;
  const int64_t oh = convOutSize(height, kernel, stride, pad);
  const int64_t ow = convOutSize(width, kernel, stride, pad);
  const int64_t planes = n * c;
  const T inv = T(1.0 / double(kernel * kernel));
#pragma omp parallel for if (planes * oh * ow * kernel * kernel >= kParallelMin) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T *in = x + p * height * width;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        T s = 0;
        for (int64_t ki = 0; ki < kernel; ++ki) {
          const int64_t iy = oy * stride - pad + ki;
          if (iy < 0 || iy >= height)
            continue;
          for (int64_t kj = 0; kj < kernel; ++kj) {
            const int64_t ix = ox * stride - pad + kj;
            if (ix >= 0 && ix < width)
              s += in[iy * width + ix];
          }
        }
        y[(p * oh + oy) * ow + ox] = s * inv;
      }
  }
}

template <typename T>
void avg_pool2d_bwd(T *dx, const T *dy, int64_t n, int64_t c, int64_t height, int64_t width,
                    int64_t kernel, int64_t stride, int64_t pad) {
  stride = stride == 0 ? kernel : stride;
  const int64_t oh = convOutSize(height, kernel, stride, pad);
  const int64_t ow = convOutSize(width, kernel, stride, pad);
  const int64_t planes = n * c, hw = height * width;
  const T inv = T(1.0 / double(kernel * kernel));
#pragma omp parallel for if (planes * oh * ow * kernel * kernel >= kParallelMin) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    T *d = dx + p * hw;
    std::fill(d, d + hw, T(0));
    const T *g = dy + p * oh * ow;
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const T v = g[oy * ow + ox] * inv;
        for (int64_t ki = 0; ki < kernel; ++ki) {
          const int64_t iy = oy * stride - pad + ki;
          if (iy < 0 || iy >= height)
            continue;
          for (int64_t kj = 0; kj < kernel; ++kj) {
            const int64_t ix = ox * stride - pad + kj;
            if (ix >= 0 && ix < width)
              d[iy * width + ix] += v;
          }
        }
      }
  }
}

template <typename T> void global_avg_pool_fwd(T *y, const T *x, int64_t n, int64_t c, int64_t hw) {
  const int64_t planes = n * c;
#pragma omp parallel for if (planes * hw >= kParallelMin) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    double s = 0;
    for (int64_t i = 0; i < hw; ++i)
      s += x[p * hw + i];
    y[p] = T(s / double(hw));
  }
}

template <typename T>
void global_avg_pool_bwd(T *dx, const T *dy, int64_t n, int64_t c, int64_t hw) {
  const int64_t planes = n * c;
  const T inv = T(1.0 / double(hw));
#pragma omp parallel for if (planes * hw >= kParallelMin) schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const T v = dy[p] * inv;
    for (int64_t i = 0; i < hw; ++i)
      dx[p * hw + i] = v;
  }
}

#define NNG_INSTANTIATE(T)                                                                         \
  template void im2col<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,    \
                          int64_t);                                                                \
  template void col2im<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,    \
                          int64_t);                                                                \
  template void conv2d_fwd<T>(T *, const T *, const T *, int64_t, int64_t, int64_t, int64_t,       \
                              int64_t, int64_t, int64_t, int64_t, int64_t, T *, const T *,         \
                              Activation);                                                         \
  template void conv2d_bwd<T>(T *, T *, const T *, const T *, const T *, int64_t, int64_t,         \
                              int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, T *,  \
                              const T *, Activation);                                              \
  template void conv2d_bias_bwd<T>(T *, const T *, const T *, int64_t, int64_t, int64_t,           \
                                   Activation);                                                    \
  template void max_pool2d_fwd<T>(T *, int64_t *, const T *, int64_t, int64_t, int64_t, int64_t,   \
                                  int64_t, int64_t, int64_t);                                      \
  template void max_pool2d_bwd<T>(T *, const T *, const int64_t *, const T *, int64_t, int64_t,    \
                                  int64_t, int64_t, int64_t, int64_t, int64_t);                    \
  template void max_pool2d_bwd<T>(T *, const T *, const int64_t *, int64_t, int64_t, int64_t,      \
                                  int64_t, int64_t, int64_t, int64_t);                             \
  template void avg_pool2d_fwd<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t,     \
                                  int64_t, int64_t);                                               \
  template void avg_pool2d_bwd<T>(T *, const T *, int64_t, int64_t, int64_t, int64_t, int64_t,     \
                                  int64_t, int64_t);                                               \
  template void global_avg_pool_fwd<T>(T *, const T *, int64_t, int64_t, int64_t);                 \
  template void global_avg_pool_bwd<T>(T *, const T *, int64_t, int64_t, int64_t);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
