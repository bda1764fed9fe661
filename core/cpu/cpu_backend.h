// The CPU backend: host memory, and each op's kernel from core/cpu/kernels
// (GEMM through OpenBLAS, OpenMP loops). Runs float32 and float64 graphs (float64
// is what the gradient checks use), and f16/bf16 by emulation: stored as float32,
// every half-typed output rounded to the narrow type (cpu/kernels/half.h). It is the
// reference every other backend is checked against.
#pragma once

#include <memory>

#include "core/runtime/backend.h"

namespace nng {

std::unique_ptr<Backend> makeCpuBackend();

// Registers "cpu" with the runtime (called from the executable and the tests).
void registerCpuBackend();

} // namespace nng
