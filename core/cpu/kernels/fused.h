// Kernels of the fused ops the fuse pass makes (core/passes/fuse.cpp): the
// fused_elementwise interpreter and the fused dense layer's backward pieces that
// avoid extra passes over memory. Conventions: common.h. fused_dense_fwd and
// fused_dense_bwd themselves live in nn.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu/kernels/common.h"
#include "core/cpu/kernels/nn.h"

namespace nng::cpu {

// ---- fused_elementwise --------------------------------------------------------------
// A chain compiled to a postfix program over a stack of values: Input pushes input
// `arg`, Literal pushes `value`, unary ops replace the top, binary ops pop b then a
// and push op(a, b). The scalar math is the unfused kernels' own, so a fused chain
// computes exactly what its ops computed one by one.
enum class ChainOp : uint8_t {
  Input,
  Literal,
  Neg,
  Relu,
  LeakyRelu,
  Sigmoid,
  Tanh,
  Gelu,
  Exp,
  Log,
  Sqrt,
  Abs, // unary
  Add,
  Sub,
  Mul,
  Div,
  Maximum,
  Minimum,
  Pow, // binary
};

struct ChainInstr {
  ChainOp op = ChainOp::Literal;
  int32_t arg = 0;  // Input: which input
  double value = 0; // Literal: the value; LeakyRelu: alpha
};

struct ChainProgram {
  std::vector<ChainInstr> code;
  int depth = 0; // the stack's high-water mark
};

// The program of a `chain` text (core/ops/fused.h), compiled once per distinct text
// and kept (thread-safe); `numInputs` bounds its x indices. Throws TypeError for a
// chain that does not parse (the verifier rejects those first).
const ChainProgram &chainProgram(const std::string &chain, size_t numInputs);

// y (of shape yShape, contiguous) = the program evaluated per element, input k of
// shape xShapes[k] broadcast to yShape (numpy rules, checked by the registry).
// Evaluates blocks of elements one instruction at a time (each instruction a tight
// loop over the block), in parallel over blocks; inputs of y's shape are read in
// place, others gathered through their broadcast strides.
template <typename T>
void fused_elementwise_fwd(T *y, const Dims &yShape, const T *const *xs, const Dims *xShapes,
                           int numInputs, const ChainProgram &program);

// ---- fused dense backward -----------------------------------------------------------
// db[j] = sum_r dy[r, j] * act'(y[r, j]) for act in none, relu, sigmoid, tanh: the
// activation mask and the bias gradient in one pass over dy and y, writing nothing
// else (rows summed in order: deterministic). gelu needs the pre-activation: not here.
template <typename T>
void fused_dense_bias_bwd(T *db, const T *dy, const T *y, int64_t m, int64_t n, Activation act);

// dz = dy * act'(y) for the same activations, into dz (m * n elements).
template <typename T>
void fused_dense_act_bwd(T *dz, const T *dy, const T *y, int64_t m, int64_t n, Activation act);

// A per-thread scratch buffer of at least `count` elements, kept between calls so the
// backward GEMMs' dz does not cost an allocation and a zero fill every step.
template <typename T> T *reusableWorkspace(int64_t count);

} // namespace nng::cpu
