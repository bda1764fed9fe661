// Half precision on the CPU, emulated: f16 and bf16 tensors are stored as f32 holding
// values the narrow type can represent. Every kernel whose output is f16/bf16 computes
// in f32 and then rounds its output once (round to nearest even; f16 overflows to inf
// and keeps subnormals), so a graph gives what a GPU computing in half precision gives,
// up to the order of accumulation. The rounding itself is elementwise.h's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/ir/type.h"

namespace nng::cpu {

inline bool isHalf(DType t) { return t == DType::F16 || t == DType::BF16; }

// The dtype a tensor of `t` is stored as here: f32 for f16/bf16, `t` otherwise.
inline DType storageDType(DType t) { return isHalf(t) ? DType::F32 : t; }

// Bytes per element of `t` as stored here.
size_t storageBytes(DType t);

// Rounds `x` in place to the nearest value of `t` when `t` is f16 or bf16; does
// nothing for other dtypes.
void roundToDType(DType t, float *x, int64_t n);

// One value rounded to f16 / bf16 (for tests and scalar code).
float roundToDType(DType t, float x);

} // namespace nng::cpu
