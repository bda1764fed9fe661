// Elementwise CPU kernels: unary activations and math, binary arithmetic with numpy
// broadcasting, and dtype casts including the f16/bf16 rounding that emulates mixed
// precision. Conventions (outputs first, nullptr grads skipped, ...): common.h.
//
// Unary kernels take n elements; y may alias x exactly (in place), as may dx and dy.
// Each backward takes the forward tensor that makes it cheapest, named in its
// signature: `x` (the forward input) or `y` (the forward output).
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// ---- unary ------------------------------------------------------------------------
template <typename T> void neg_fwd(T *y, const T *x, int64_t n);
template <typename T> void neg_bwd(T *dx, const T *dy, int64_t n);

// relu_bwd passes dy where x > 0 (0 at x == 0, as PyTorch). y works in place of x:
// y > 0 exactly where x > 0.
template <typename T> void relu_fwd(T *y, const T *x, int64_t n);
template <typename T> void relu_bwd(T *dx, const T *dy, const T *x, int64_t n);

// y = x if x > 0 else alpha * x.
template <typename T> void leaky_relu_fwd(T *y, const T *x, int64_t n, double alpha);
template <typename T> void leaky_relu_bwd(T *dx, const T *dy, const T *x, int64_t n, double alpha);

// Stable for large |x| (never exponentiates a positive number).
template <typename T> void sigmoid_fwd(T *y, const T *x, int64_t n);
template <typename T> void sigmoid_bwd(T *dx, const T *dy, const T *y, int64_t n);

template <typename T> void tanh_fwd(T *y, const T *x, int64_t n);
template <typename T> void tanh_bwd(T *dx, const T *dy, const T *y, int64_t n);

// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
template <typename T> void gelu_fwd(T *y, const T *x, int64_t n);
template <typename T> void gelu_bwd(T *dx, const T *dy, const T *x, int64_t n);

template <typename T> void exp_fwd(T *y, const T *x, int64_t n);
template <typename T> void exp_bwd(T *dx, const T *dy, const T *y, int64_t n);

template <typename T> void log_fwd(T *y, const T *x, int64_t n);
template <typename T> void log_bwd(T *dx, const T *dy, const T *x, int64_t n);

template <typename T> void sqrt_fwd(T *y, const T *x, int64_t n);
template <typename T> void sqrt_bwd(T *dx, const T *dy, const T *y, int64_t n);

// abs_bwd uses sign(x), 0 at x == 0 (as PyTorch).
template <typename T> void abs_fwd(T *y, const T *x, int64_t n);
template <typename T> void abs_bwd(T *dx, const T *dy, const T *x, int64_t n);

// ---- binary, numpy broadcasting -----------------------------------------------------
// out has the broadcast shape of aShape and bShape (checked by the registry). Fast
// paths: equal shapes, a scalar operand, and [.., N] with [N] (bias); everything else
// runs through the strided engine. out may alias an operand of the output's shape.
//
// Backward: da has aShape and db has bShape; each is the upstream gradient times the
// local derivative, summed over the dims its operand was broadcast along (in a fixed
// order: deterministic). Either may be nullptr.
template <typename T>
void add_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void add_bwd(T *da, T *db, const T *dout, const Dims &aShape, const Dims &bShape);

template <typename T>
void sub_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void sub_bwd(T *da, T *db, const T *dout, const Dims &aShape, const Dims &bShape);

template <typename T>
void mul_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void mul_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aShape,
             const Dims &bShape);

template <typename T>
void div_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void div_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aShape,
             const Dims &bShape);

// maximum/minimum propagate NaN (as PyTorch). Backward at ties gives each operand
// half of the gradient (as PyTorch).
template <typename T>
void maximum_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void maximum_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aShape,
                 const Dims &bShape);
template <typename T>
void minimum_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void minimum_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aShape,
                 const Dims &bShape);

// pow backward as PyTorch: da = dout * b * a^(b-1) (0 where b == 0),
// db = dout * a^b * log(a) (0 where a == 0 and b >= 0).
template <typename T>
void pow_fwd(T *out, const T *a, const T *b, const Dims &aShape, const Dims &bShape);
template <typename T>
void pow_bwd(T *da, T *db, const T *dout, const T *a, const T *b, const Dims &aShape,
             const Dims &bShape);

// Sums `x` (of shape xShape) down to `y` of shape yShape, which must broadcast to
// xShape: the reduction every broadcasting backward needs; the executor may use it
// for gradients of implicitly broadcast values.
template <typename T> void sum_to_fwd(T *y, const T *x, const Dims &yShape, const Dims &xShape);

// ---- casts and reduced-precision rounding ------------------------------------------
// IEEE binary16 and bfloat16, round to nearest even; overflow gives inf, NaN stays a
// (quiet) NaN, subnormal halves are kept.
uint16_t floatToHalfBits(float x);
float halfBitsToFloat(uint16_t h);
uint16_t floatToBf16Bits(float x);
float bf16BitsToFloat(uint16_t h);
// The nearest f16 / bf16 value, as a float: what storing in that dtype keeps.
inline float roundToHalf(float x) { return halfBitsToFloat(floatToHalfBits(x)); }
inline float roundToBf16(float x) { return bf16BitsToFloat(floatToBf16Bits(x)); }

// Numeric conversion (static_cast) between the CPU storage types: float, double,
// int32_t, int64_t, uint8_t (bool). Instantiated for every pair of them.
template <typename To, typename From> void cast_fwd(To *y, const From *x, int64_t n);

// Storage conversions for f16/bf16 tensors held as their 16-bit patterns.
void cast_f32_to_f16_fwd(uint16_t *y, const float *x, int64_t n);
void cast_f16_to_f32_fwd(float *y, const uint16_t *x, int64_t n);
void cast_f32_to_bf16_fwd(uint16_t *y, const float *x, int64_t n);
void cast_bf16_to_f32_fwd(float *y, const uint16_t *x, int64_t n);

// Mixed-precision emulation with wide storage: y = x rounded (once, to nearest even)
// to f16 / bf16, kept in T. For T = double the rounding is from the double value
// directly (no double rounding through float). y may alias x.
// The backward of a cast is the cast back: for f32 -> f16 the incoming f16 gradient
// is already exact in f32 (dx = dy); for f16 -> f32, dx = round_f16(dy).
template <typename T> void round_f16_fwd(T *y, const T *x, int64_t n);
template <typename T> void round_bf16_fwd(T *y, const T *x, int64_t n);

} // namespace nng::cpu
