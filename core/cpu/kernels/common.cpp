// Dims, axis splitting and reduction masks (see common.h).
#include "core/cpu/kernels/common.h"

#include "core/diag/diagnostic.h"

namespace nng::cpu {

namespace {

void checkRank(size_t rank) {
  if (rank > size_t(kMaxRank))
    throw UserError("tensor rank " + std::to_string(rank) + " exceeds the CPU backend's limit of " +
                    std::to_string(kMaxRank));
}

int64_t normalize(int64_t axis, int rank) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  NNG_CHECK(a >= 0 && a < rank,
            "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return a;
}

} // namespace

Dims::Dims(std::initializer_list<int64_t> extents) {
  checkRank(extents.size());
  for (int64_t e : extents)
    d[rank++] = e;
}

Dims Dims::of(const std::vector<int64_t> &extents) {
  checkRank(extents.size());
  Dims r;
  for (int64_t e : extents)
    r.d[r.rank++] = e;
  return r;
}

int64_t Dims::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= d[i];
  return n;
}

bool Dims::operator==(const Dims &o) const {
  if (rank != o.rank)
    return false;
  for (int i = 0; i < rank; ++i)
    if (d[i] != o.d[i])
      return false;
  return true;
}

std::string Dims::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

AxisSplit splitAt(const Dims &shape, int64_t axis) {
  const int64_t a = normalize(axis, shape.rank);
  AxisSplit s;
  for (int i = 0; i < shape.rank; ++i) {
    if (i < a)
      s.outer *= shape[i];
    else if (i == a)
      s.axis = shape[i];
    else
      s.inner *= shape[i];
  }
  return s;
}

uint32_t reduceMask(const Dims &shape, const std::vector<int64_t> &axes) {
  if (axes.empty())
    return shape.rank == 0 ? 0u : (uint32_t(1) << shape.rank) - 1;
  uint32_t mask = 0;
  for (int64_t axis : axes)
    mask |= uint32_t(1) << normalize(axis, shape.rank);
  return mask;
}

} // namespace nng::cpu
