// Layer CPU kernels: dropout with a counter-based RNG, embedding lookup, and the fused
// dense layer (GEMM + bias + activation). Conventions: common.h.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

// ---- dropout ----------------------------------------------------------------------
// The mask is a pure function of (seed, step, element index): no RNG state, so the
// backward regenerates it instead of storing it, and a GPU kernel using these same
// inline functions produces the same mask bit for bit.
//   key       = mix64(seed ^ mix64(step + kGolden))            once per call
//   bits(i)   = mix64(key + (i + 1) * kGolden)                 SplitMix64's i-th output
//   keep(i)   = (bits(i) >> 40) >= threshold,  threshold = round(p * 2^24)
// so an element is dropped with probability p (to 2^-24).
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// SplitMix64's finalizer (Stafford's Mix13): a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline uint64_t dropoutKey(uint64_t seed, uint64_t step) {
  return mix64(seed ^ mix64(step + kGolden));
}
inline uint32_t dropoutThreshold(double p) {
  return uint32_t(std::llround(p * 16777216.0)); // p * 2^24
}
inline bool dropoutKeep(uint64_t key, uint64_t index, uint32_t threshold) {
  return uint32_t(mix64(key + (index + 1) * kGolden) >> 40) >= threshold;
}
// A per-node seed: two dropout nodes in one step must not share a mask. The executor
// passes dropoutSeed(run seed, node index) as `seed`.
inline uint64_t dropoutSeed(uint64_t runSeed, uint64_t nodeId) {
  return mix64(runSeed ^ mix64(nodeId ^ 0xD1B54A32D192ED03ull));
}

// y = keep ? x / (1 - p) : 0, for 0 <= p < 1 (p == 0 copies). mask (nullable) receives
// 1 for kept elements, 0 for dropped ones. step is the training step (a new mask
// every step); seed identifies the node (dropoutSeed).
template <typename T>
void dropout_fwd(T *y, uint8_t *mask, const T *x, int64_t n, double p, uint64_t seed,
                 uint64_t step);
// dx = keep ? dy / (1 - p) : 0 with the mask regenerated from (seed, step).
template <typename T>
void dropout_bwd(T *dx, const T *dy, int64_t n, double p, uint64_t seed, uint64_t step);

// ---- embedding ----------------------------------------------------------------------
// y[i, :] = weight[ids[i], :] for count ids (I = int32_t or int64_t), weight
// [vocab, dim]. Throws nng::UserError "embedding id 12 out of range [0, 10) at
// position 3" for a bad id.
template <typename T, typename I>
void embedding_fwd(T *y, const I *ids, const T *weight, int64_t count, int64_t vocab, int64_t dim);
// dweight = zeros, then dweight[ids[i], :] += dy[i, :] for i in order (in parallel over
// column blocks, so repeated ids add up deterministically).
template <typename T, typename I>
void embedding_bwd(T *dweight, const T *dy, const I *ids, int64_t count, int64_t vocab,
                   int64_t dim);

// ---- fused dense ----------------------------------------------------------------------
enum class Activation { None, Relu, Gelu, Sigmoid, Tanh };

// y[m, n] = act(x[m, k] @ w[k, n] + b[n]) (w laid out [in, units] as the dense sugar's
// weight; b nullable; leading batch dims of x fold into m). preact (nullable)
// receives x @ w + b.
template <typename T>
void fused_dense_fwd(T *y, T *preact, const T *x, const T *w, const T *b, int64_t m, int64_t k,
                     int64_t n, Activation act);
// dz = dy * act'(...) and db = column sums of dz in one pass (db summed over rows in
// order), then dx = dz w^T and dw = x^T dz. relu, sigmoid and tanh differentiate from
// y; gelu from the pre-activation: the forward's `preact`, or nullptr to recompute it
// here with one more GEMM (the graph's fused_dense_grad(dy, y, x, w, b) has no
// preact). workspace holds dz (and the recomputed preact): m * n elements, unused for
// Activation::None. Any of dx, dw, db may be nullptr.
template <typename T>
void fused_dense_bwd(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w, const T *b,
                     const T *y, const T *preact, int64_t m, int64_t k, int64_t n, Activation act,
                     T *workspace);
// The same without b (the first signature, kept for callers): gelu needs preact.
template <typename T>
void fused_dense_bwd(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w, const T *y,
                     const T *preact, int64_t m, int64_t k, int64_t n, Activation act,
                     T *workspace);

} // namespace nng::cpu
