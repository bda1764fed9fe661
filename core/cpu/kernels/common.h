// Shared vocabulary of the CPU kernels: the small fixed-capacity shape type they
// take (Dims), axis splitting, the OpenMP size threshold, and the deterministic
// blocked sum every full reduction uses.
//
// Kernel conventions (all files in core/cpu/kernels):
// - Kernels are plain functions over raw, contiguous, row-major buffers:
//   `<op>_fwd(outputs..., inputs..., sizes/attributes...)`, `<op>_bwd(input grads...,
//   upstream grads and saved tensors..., sizes/attributes...)`. Each CUDA kernel
//   will have a twin with the same name and argument order.
// - They are templates on the element type T, instantiated for float and double
//   (double is what the gradient checks use).
// - A gradient output pointer that is nullptr is skipped (the input needs no grad).
// - Gradients are written (overwritten), never accumulated into, unless a comment
//   says otherwise.
// - Determinism: the same inputs give bit-identical outputs on every run. Every
//   reduction either runs serially per output element, or sums fixed-size blocks
//   (independent of the thread count) and combines the block results in order.
// - Kernels never validate what the op registry already checked (shapes agree,
//   attributes in range); those are NNG_CHECKed. Errors that depend on tensor data
//   (a label or an id out of range) throw nng::UserError.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace nng::cpu {

// The largest tensor rank the CPU kernels handle.
constexpr int kMaxRank = 8;

// A concrete shape of at most kMaxRank extents, passed by value (and later to CUDA
// kernels as a plain struct).
struct Dims {
  int rank = 0;
  int64_t d[kMaxRank] = {};

  Dims() = default;
  // Throws nng::UserError when there are more than kMaxRank extents.
  Dims(std::initializer_list<int64_t> extents);
  static Dims of(const std::vector<int64_t> &extents);

  int64_t operator[](int i) const { return d[i]; }
  int64_t &operator[](int i) { return d[i]; }
  int64_t numel() const;
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d, d + rank); }
  bool operator==(const Dims &o) const;
  bool operator!=(const Dims &o) const { return !(*this == o); }
  std::string str() const; // "[2, 3]"
};

// A tensor viewed as [outer, axis, inner] around one axis: what concat, slice,
// softmax and log_softmax take. `axis` may be negative (counted from the end).
struct AxisSplit {
  int64_t outer = 1;
  int64_t axis = 1;
  int64_t inner = 1;
};
AxisSplit splitAt(const Dims &shape, int64_t axis);

// Bit i set = axis i is reduced. Negative axes count from the end; an empty list
// means every axis (the registry's default for sum/mean/max).
uint32_t reduceMask(const Dims &shape, const std::vector<int64_t> &axes);

// Loops with fewer elements than this run on one thread. Splitting a loop costs a
// fork/join, and far more when the other thread has gone to sleep between parallel
// regions (GOMP_SPINCOUNT, cli/main.cpp): 784-64-10's SGD update of its 50k-element
// weight at batch 32 took 0.018 ms per step on one thread, 0.035 ms on two. From 128k
// elements (512 KiB of floats per operand) the loop itself outweighs that: splitting
// 784-512-256-10's update of fc2.weight (131k elements, three operands) took its six
// updates from 0.19 to 0.14 ms per step, and the whole step from 1.89 to 1.80 ms
// (medians of 8 interleaved runs; at 256k, the threshold before, it ran on one thread).
constexpr int64_t kParallelMin = int64_t(1) << 17;

// Full reductions sum blocks of this many terms, one block per task, and add the
// block sums in order; the result does not depend on the number of threads.
constexpr int64_t kSumBlock = 4096;

// sum_{i < n} f(i) in double, deterministic (see kSumBlock). f must be thread-safe.
template <typename F> double blockedSum(int64_t n, F f) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      s += f(i);
    return s;
  }
  std::vector<double> partial(blocks);
#pragma omp parallel for if (n >= kParallelMin) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = b + 1 == blocks ? n : (b + 1) * kSumBlock;
    double s = 0;
    for (int64_t i = b * kSumBlock; i < end; ++i)
      s += f(i);
    partial[b] = s;
  }
  double s = 0;
  for (double p : partial)
    s += p;
  return s;
}

} // namespace nng::cpu
