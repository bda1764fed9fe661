// Stride computation, numpy broadcasting and loop coalescing (see strided.h).
#include "core/cpu/kernels/strided.h"

#include "core/diag/diagnostic.h"

namespace nng::cpu {

void contiguousStrides(const Dims &shape, int64_t *strides) {
  int64_t s = 1;
  for (int i = shape.rank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
}

void broadcastStrides(const Dims &shape, const Dims &out, int64_t *strides) {
  NNG_CHECK(shape.rank <= out.rank, "cannot broadcast " + shape.str() + " to " + out.str());
  int64_t own[kMaxRank];
  contiguousStrides(shape, own);
  const int lead = out.rank - shape.rank;
  for (int i = 0; i < out.rank; ++i) {
    if (i < lead) {
      strides[i] = 0;
      continue;
    }
    const int64_t e = shape[i - lead];
    NNG_CHECK(e == out[i] || e == 1, "cannot broadcast " + shape.str() + " to " + out.str());
    strides[i] = e == out[i] ? own[i - lead] : 0;
  }
}

Dims broadcastShape(const Dims &a, const Dims &b) {
  Dims out;
  out.rank = std::max(a.rank, b.rank);
  for (int i = 0; i < out.rank; ++i) {
    const int ia = i - (out.rank - a.rank), ib = i - (out.rank - b.rank);
    const int64_t ea = ia >= 0 ? a[ia] : 1, eb = ib >= 0 ? b[ib] : 1;
    NNG_CHECK(ea == eb || ea == 1 || eb == 1,
              "shapes " + a.str() + " and " + b.str() + " do not broadcast");
    out[i] = ea == 1 ? eb : ea;
  }
  return out;
}

StridedLoop makeLoop(const Dims &shape, std::initializer_list<const int64_t *> strides) {
  NNG_CHECK(strides.size() <= size_t(kMaxOperands), "too many operands");
  StridedLoop l;
  // Walk from the innermost dim outwards, appending dims to a reversed list and
  // merging a dim into the previous (inner) one when every operand steps through
  // both as one.
  int64_t shapeRev[kMaxRank];
  int64_t strideRev[kMaxOperands][kMaxRank] = {};
  int n = 0;
  for (int i = shape.rank - 1; i >= 0; --i) {
    if (shape[i] == 1)
      continue;
    int64_t s[kMaxOperands] = {};
    int op = 0;
    for (const int64_t *st : strides)
      s[op++] = st[i];
    if (n > 0) {
      bool merge = true;
      for (int k = 0; k < kMaxOperands; ++k)
        merge = merge && s[k] == strideRev[k][n - 1] * shapeRev[n - 1];
      if (merge) {
        shapeRev[n - 1] *= shape[i];
        continue;
      }
    }
    shapeRev[n] = shape[i];
    for (int k = 0; k < kMaxOperands; ++k)
      strideRev[k][n] = s[k];
    ++n;
  }
  l.rank = n;
  for (int i = 0; i < n; ++i) {
    l.shape[i] = shapeRev[n - 1 - i];
    for (int k = 0; k < kMaxOperands; ++k)
      l.stride[k][i] = strideRev[k][n - 1 - i];
  }
  return l;
}

} // namespace nng::cpu
