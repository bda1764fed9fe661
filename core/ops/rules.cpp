// Shared type rules: broadcasting, axes, dtype checks.
#include "core/ops/rules.h"

#include <algorithm>

namespace nng::rules {

Shape broadcast(const std::string &op, const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim one(1);
    const Dim &da = i < rank - a.size() ? one : a[i - (rank - a.size())];
    const Dim &db = i < rank - b.size() ? one : b[i - (rank - b.size())];
    if (da == db || db == one)
      out[i] = da;
    else if (da == one)
      out[i] = db;
    else
      throw TypeError(op + ": shapes " + shapeStr(a) + " and " + shapeStr(b) +
                      " do not broadcast (" + da.str() + " vs " + db.str() + ")");
  }
  return out;
}

int64_t normalizeAxis(const std::string &op, int64_t axis, size_t rank) {
  auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    throw TypeError(op + ": axis " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

DType sameDType(const std::string &op, const TensorType &a, const TensorType &b) {
  if (a.dtype != b.dtype)
    throw TypeError(op + ": operand dtypes differ: " + a.str() + " and " + b.str() +
                    " (insert a cast)");
  return a.dtype;
}

void requireFloat(const std::string &op, const TensorType &t, const std::string &what) {
  if (!isFloat(t.dtype))
    throw TypeError(op + ": " + what + " must be a float tensor, got " + t.str());
}

void requireInteger(const std::string &op, const TensorType &t, const std::string &what) {
  if (!isInteger(t.dtype))
    throw TypeError(op + ": " + what + " must be an integer tensor (i32 or i64), got " + t.str());
}

void requireRank(const std::string &op, const TensorType &t, size_t rank,
                 const std::string &what) {
  if (t.rank() != rank)
    throw TypeError(op + ": " + what + " must have rank " + std::to_string(rank) + ", got " +
                    t.str());
}

double elements(const TensorType &t, int64_t batch) {
  double n = 1;
  for (const Dim &d : t.shape)
    n *= d.isSymbolic() ? static_cast<double>(batch) : static_cast<double>(d.value);
  return n;
}

TensorType sameAsFirst(const OpCall &c) { return c.inputs[0]; }

FlopsFn perOutputElement(double perElement) {
  return [perElement](const OpCall &, const TensorType &out, int64_t batch) {
    return perElement * elements(out, batch);
  };
}

} // namespace nng::rules
