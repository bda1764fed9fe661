// Shared type rules: broadcasting, overflow-checked shape arithmetic, axes, dtype
// checks, FLOP helpers, and the matmul and cross-entropy rules two families share.
#include "core/ops/rules.h"

#include <algorithm>

#include "core/diag/diagnostic.h"

namespace nng::rules {

bool tryBroadcast(const Shape &a, const Shape &b, Shape &out, std::string &conflict) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, Dim(1));
  for (size_t i = 0; i < rank; ++i) {
    const Dim one(1);
    const Dim &da = i < rank - a.size() ? one : a[i - (rank - a.size())];
    const Dim &db = i < rank - b.size() ? one : b[i - (rank - b.size())];
    if (da == db || db == one) {
      out[i] = da;
    } else if (da == one) {
      out[i] = db;
    } else {
      conflict = da.str() + " vs " + db.str();
      return false;
    }
  }
  return true;
}

Shape broadcast(const std::string &op, const Shape &a, const Shape &b) {
  Shape out;
  std::string conflict;
  if (!tryBroadcast(a, b, out, conflict))
    throw TypeError(op + ": shapes " + shapeStr(a) + " and " + shapeStr(b) + " do not broadcast (" +
                    conflict + ")");
  return checkElements(op, std::move(out));
}

Shape checkElements(const std::string &op, Shape s) {
  int64_t n = 1;
  for (const Dim &d : s) {
    if (!d.isKnown())
      continue;
    // The message only on overflow: every op's type inference passes here.
    auto m = checkedMul(n, d.value);
    if (!m)
      throw TypeError(op + ": the result " + shapeStr(s) + " has more than 2^48 elements");
    n = *m;
  }
  return s;
}

int64_t mulChecked(const std::string &op, int64_t a, int64_t b, const std::string &what) {
  auto m = checkedMul(a, b);
  if (!m)
    throw TypeError(op + ": " + what + " has more than 2^48 elements");
  return *m;
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

void requireRank(const std::string &op, const TensorType &t, size_t rank, const std::string &what) {
  if (t.rank() != rank)
    throw TypeError(op + ": " + what + " must have rank " + std::to_string(rank) + ", got " +
                    t.str());
}

double elements(const TensorType &t, int64_t batch) {
  double n = 1;
  for (const Dim &d : t.shape)
    n *= dimValue(d, batch);
  return n;
}

double dimValue(const Dim &d, int64_t batch) {
  return d.isSymbolic() ? static_cast<double>(batch) : static_cast<double>(d.value);
}

TensorType sameAsFirst(const OpCall &c) { return c.inputs[0]; }

FlopsFn perOutputElement(double perElement) {
  return [perElement](const OpCall &, const TensorType &out, int64_t batch) {
    return perElement * elements(out, batch);
  };
}

FlopsFn perInputElement(double perElement) {
  return [perElement](const OpCall &c, const TensorType &, int64_t batch) {
    return perElement * elements(c.inputs[0], batch);
  };
}

double elementwiseCost(const std::string &op) {
  const OpDef *def = opRegistry().find(op);
  NNG_CHECK(def && def->flops, "no FLOP rule for elementwise op " + op);
  const TensorType scalar{DType::F32, {}};
  std::vector<TensorType> inputs(def->inputs.size(), scalar);
  // Elementwise FLOP rules read no attributes; required ones (cast's `to`) stay unset.
  AttrMap attrs;
  for (const AttrSpec &spec : def->attrs)
    if (spec.defaultValue)
      attrs[spec.name] = *spec.defaultValue;
  return def->flops(OpCall{inputs, attrs}, scalar, 1);
}

TensorType matmulType(const std::string &op, const TensorType &a, const TensorType &b) {
  // The operands as a message shows them, built only for an error.
  auto bothStr = [&] { return a.str() + " @ " + b.str(); };
  if (a.rank() < 2 || b.rank() < 2)
    throw TypeError(op + ": operands must have rank 2 or more (reshape a vector to [1, K] or " +
                    "[K, 1]), got " + bothStr());
  if (!isFloat(a.dtype) || !isFloat(b.dtype))
    throw TypeError(op + ": operands must be float tensors, got " + bothStr());
  if (a.dtype != b.dtype)
    throw TypeError(op + ": operand dtypes differ: " + bothStr() + " (insert a cast)");
  const Dim &ka = a.shape[a.rank() - 1];
  const Dim &kb = b.shape[b.rank() - 2];
  if (ka != kb)
    throw TypeError(op + ": inner dimensions differ: " + bothStr() + " (" + ka.str() + " vs " +
                    kb.str() + ")");
  Shape batchA(a.shape.begin(), a.shape.end() - 2);
  Shape batchB(b.shape.begin(), b.shape.end() - 2);
  Shape out;
  std::string conflict;
  if (!tryBroadcast(batchA, batchB, out, conflict))
    throw TypeError(op + ": batch dimensions do not broadcast: " + bothStr() + " (" + conflict +
                    ")");
  out.push_back(a.shape[a.rank() - 2]);
  out.push_back(b.shape[b.rank() - 1]);
  return TensorType{a.dtype, checkElements(op, std::move(out))};
}

TensorType crossEntropyType(const std::string &op, const TensorType &logits,
                            const TensorType &labels) {
  requireFloat(op, logits, "logits");
  if (logits.rank() != 2)
    throw TypeError(op + ": logits must have rank 2 ([batch, classes]), got " + logits.str());
  if (!isInteger(labels.dtype))
    throw TypeError(op + ": labels must be integer class indices (i32 or i64), got " +
                    labels.str());
  if (labels.rank() != 1)
    throw TypeError(op + ": labels must have rank 1 ([batch]), got " + labels.str());
  if (labels.shape[0] != logits.shape[0])
    throw TypeError(op + ": batch sizes differ: logits " + logits.str() + ", labels " +
                    labels.str() + " (" + logits.shape[0].str() + " vs " + labels.shape[0].str() +
                    ")");
  return TensorType{logits.dtype, {}};
}

double crossEntropyFlops(const OpCall &c, const TensorType &, int64_t batch) {
  return 8 * elements(c.inputs[0], batch) + elements(c.inputs[1], batch);
}

} // namespace nng::rules
