// The N-d indexing engine behind broadcasting and reductions: a loop over one shape
// with per-operand strides (0 where an operand is broadcast), coalesced so that
// contiguous dims merge and the innermost loop is as long as possible.
//
// Two drivers use it:
// - forEachRun: elementwise work; calls a body for runs along the innermost dim.
// - reduceLoop: reduces every operand-1..3 value onto operand 0 (the target, whose
//   strides are 0 along the reduced dims). Each target element is accumulated by one
//   task in a fixed order, so results do not depend on the thread count.
// Internal to the kernels; the executor uses the typed kernels instead.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "core/cpu/kernels/common.h"

namespace nng::cpu {

constexpr int kMaxOperands = 4;

struct StridedLoop {
  int rank = 0; // after coalescing; 0 means a single element
  int64_t shape[kMaxRank] = {};
  int64_t stride[kMaxOperands][kMaxRank] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i)
      n *= shape[i];
    return n;
  }
};

// Row-major strides of a contiguous tensor of `shape`.
void contiguousStrides(const Dims &shape, int64_t *strides);
// Strides of a contiguous tensor of `shape` read as the (broadcast) shape `out`:
// right-aligned, 0 where `shape` has extent 1 (or no dim) and `out` does not.
void broadcastStrides(const Dims &shape, const Dims &out, int64_t *strides);
// The numpy broadcast of two shapes (NNG_CHECKs that they broadcast).
Dims broadcastShape(const Dims &a, const Dims &b);

// A loop over `shape` for the given operands' strides (unused operands get 0):
// extent-1 dims are dropped and neighbours that are contiguous for every operand are
// merged.
StridedLoop makeLoop(const Dims &shape, std::initializer_list<const int64_t *> strides);

namespace detail {

// Adds the offsets of linear index `idx` over the dims listed in `dims` (outermost
// first) to off[0..kMaxOperands).
inline void addOffsets(const StridedLoop &l, const int *dims, int nd, int64_t idx, int64_t *off) {
  for (int k = nd - 1; k >= 0; --k) {
    const int d = dims[k];
    const int64_t c = idx % l.shape[d];
    idx /= l.shape[d];
    for (int op = 0; op < kMaxOperands; ++op)
      off[op] += c * l.stride[op][d];
  }
}

// Long innermost dims are cut into chunks of this many elements so that even a
// single row spreads across threads.
constexpr int64_t kRunChunk = 8192;
// Reductions that keep the innermost dim work on column blocks of this width.
constexpr int kColBlock = 128;

} // namespace detail

// body(const int64_t off[kMaxOperands], int64_t count): `count` elements starting at
// the given offsets, stepping by l.stride[op][l.rank - 1] (innermost strides).
template <typename Body> void forEachRun(const StridedLoop &l, Body body) {
  if (l.numel() == 0)
    return;
  if (l.rank == 0) {
    int64_t off[kMaxOperands] = {};
    body(off, int64_t(1));
    return;
  }
  const int last = l.rank - 1;
  const int64_t inner = l.shape[last];
  const int64_t rows = l.numel() / inner;
  const int64_t chunks = (inner + detail::kRunChunk - 1) / detail::kRunChunk;
  int outerDims[kMaxRank];
  for (int i = 0; i < last; ++i)
    outerDims[i] = i;
  const int64_t items = rows * chunks;
#pragma omp parallel for if (l.numel() >= kParallelMin && items > 1) schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t row = item / chunks, chunk = item % chunks;
    int64_t off[kMaxOperands] = {};
    detail::addOffsets(l, outerDims, last, row, off);
    const int64_t begin = chunk * detail::kRunChunk;
    for (int op = 0; op < kMaxOperands; ++op)
      off[op] += begin * l.stride[op][last];
    body(static_cast<const int64_t *>(off), std::min(detail::kRunChunk, inner - begin));
  }
}

// Reduction policy P:
//   using State = ...;   State init() const;
//   void add(State &s, int64_t o1, int64_t o2, int64_t o3) const;  // one term
//   void done(int64_t o0, const State &s) const;                   // store a result
// Terms reach each State in increasing row-major order of the reduced dims.
template <typename P> void reduceLoop(const StridedLoop &l, const P &p) {
  using State = typename P::State;
  int kept[kMaxRank], red[kMaxRank];
  int nk = 0, nr = 0;
  for (int i = 0; i < l.rank; ++i) {
    if (l.stride[0][i] != 0)
      kept[nk++] = i;
    else
      red[nr++] = i;
  }
  int64_t keptCount = 1, redCount = 1;
  for (int i = 0; i < nk; ++i)
    keptCount *= l.shape[kept[i]];
  for (int i = 0; i < nr; ++i)
    redCount *= l.shape[red[i]];
  if (keptCount == 0)
    return;
  const bool big = l.numel() >= kParallelMin;
  const int last = l.rank - 1;

  if (l.rank > 0 && nr > 0 && l.stride[0][last] != 0) {
    // The innermost dim is kept: walk the reduced positions once per column block,
    // updating a block of contiguous targets per position.
    const int64_t width = l.shape[last];
    const int64_t blocks = (width + detail::kColBlock - 1) / detail::kColBlock;
    const int64_t items = keptCount / width * blocks;
#pragma omp parallel for if (big && items > 1) schedule(static)
    for (int64_t item = 0; item < items; ++item) {
      const int64_t outer = item / blocks, c0 = item % blocks * detail::kColBlock;
      const int64_t cols = std::min<int64_t>(detail::kColBlock, width - c0);
      int64_t base[kMaxOperands] = {};
      detail::addOffsets(l, kept, nk - 1, outer, base);
      State st[detail::kColBlock];
      for (int64_t j = 0; j < cols; ++j)
        st[j] = p.init();
      const int64_t s1 = l.stride[1][last], s2 = l.stride[2][last], s3 = l.stride[3][last];
      for (int64_t r = 0; r < redCount; ++r) {
        int64_t off[kMaxOperands] = {base[0], base[1], base[2], base[3]};
        detail::addOffsets(l, red, nr, r, off);
        for (int64_t j = 0; j < cols; ++j)
          p.add(st[j], off[1] + (c0 + j) * s1, off[2] + (c0 + j) * s2, off[3] + (c0 + j) * s3);
      }
      for (int64_t j = 0; j < cols; ++j)
        p.done(base[0] + (c0 + j) * l.stride[0][last], st[j]);
    }
    return;
  }

  // The innermost dim is reduced (or nothing is): one task per target element, the
  // innermost reduced dim as the inner loop.
  const int64_t innerLen = nr > 0 ? l.shape[red[nr - 1]] : 1;
  const int64_t outerRed = innerLen == 0 ? 0 : redCount / innerLen;
  const int innerDim = nr > 0 ? red[nr - 1] : 0;
  const int64_t s1 = nr > 0 ? l.stride[1][innerDim] : 0;
  const int64_t s2 = nr > 0 ? l.stride[2][innerDim] : 0;
  const int64_t s3 = nr > 0 ? l.stride[3][innerDim] : 0;
#pragma omp parallel for if (big && keptCount > 1) schedule(static)
  for (int64_t o = 0; o < keptCount; ++o) {
    int64_t base[kMaxOperands] = {};
    detail::addOffsets(l, kept, nk, o, base);
    State st = p.init();
    for (int64_t r = 0; r < outerRed; ++r) {
      int64_t off[kMaxOperands] = {base[0], base[1], base[2], base[3]};
      detail::addOffsets(l, red, nr > 0 ? nr - 1 : 0, r, off);
      for (int64_t j = 0; j < innerLen; ++j)
        p.add(st, off[1] + j * s1, off[2] + j * s2, off[3] + j * s3);
    }
    p.done(base[0], st);
  }
}

} // namespace nng::cpu
