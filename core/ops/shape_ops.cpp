// Shape ops: reshape, flatten, concat and slice. They move data without arithmetic
// (0 FLOPs) and are injective: every output element reads exactly one input element.
//
// A Dim is a number or a single symbol, never an expression, so a rule that would
// produce "N*49" or "N+M" rejects the input instead and says so.
#include <string>
#include <vector>

#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

// reshape: a -1 entry takes the leftover extent. When the input has one symbolic
// dim, the -1 must stand for exactly that symbol (the known products must match).
TensorType reshapeType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  const std::vector<int64_t> shape = c.intsAttr("shape");
  const std::string target = c.attrs.at("shape").str();
  int64_t hole = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (hole >= 0)
        throw TypeError("reshape: shape " + target + " has more than one -1");
      hole = static_cast<int64_t>(i);
      continue;
    }
    if (shape[i] <= 0)
      throw TypeError("reshape: shape entries must be positive or -1, got " +
                      std::to_string(shape[i]) + " in " + target);
    known = rules::mulChecked("reshape", known, shape[i], "shape " + target);
  }

  int64_t have = 1;
  std::vector<Dim> symbols;
  for (const Dim &d : x.shape) {
    if (d.isSymbolic())
      symbols.push_back(d);
    else
      have = rules::mulChecked("reshape", have, d.value, "input " + x.str());
  }

  Shape out(shape.begin(), shape.end());
  if (symbols.size() > 1)
    throw TypeError("reshape: " + x.str() + " has " + std::to_string(symbols.size()) +
                    " symbolic dimensions; a -1 can stand for only one");
  if (symbols.size() == 1) {
    const std::string sym = symbols[0].str();
    if (hole < 0)
      throw TypeError("reshape: " + x.str() + " has the symbolic dimension " + sym + "; shape " +
                      target + " needs a -1 to stand for it");
    if (known != have)
      throw TypeError("reshape: cannot reshape " + x.str() + " to " + target + ": the -1 can " +
                      "only stand for " + sym + ", so the other entries must multiply to " +
                      std::to_string(have) + ", not " + std::to_string(known));
    out[hole] = symbols[0];
  } else if (hole >= 0) {
    if (have % known != 0)
      throw TypeError("reshape: cannot reshape " + x.str() + " (" + std::to_string(have) +
                      " elements) to " + target + ": " + std::to_string(have) +
                      " is not a multiple of " + std::to_string(known));
    out[hole] = have / known;
  } else if (known != have) {
    throw TypeError("reshape: element counts differ: " + x.str() + " has " + std::to_string(have) +
                    ", shape " + target + " has " + std::to_string(known));
  }
  return TensorType{x.dtype, out};
}

// flatten: dims from start_axis on become their product. A single symbolic dim
// (with any number of 1s) stays that symbol; a symbol times anything else is an error.
TensorType flattenType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  int64_t start = rules::normalizeAxis("flatten", c.intAttr("start_axis"), x.rank());
  Shape out(x.shape.begin(), x.shape.begin() + start);
  Shape tail(x.shape.begin() + start, x.shape.end());
  int64_t known = 1;
  std::vector<Dim> symbols;
  for (const Dim &d : tail) {
    if (d.isSymbolic())
      symbols.push_back(d);
    else
      known = rules::mulChecked("flatten", known, d.value, "input " + x.str());
  }
  if (symbols.empty())
    out.push_back(known);
  else if (symbols.size() == 1 && known == 1)
    out.push_back(symbols[0]);
  else
    throw TypeError("flatten: cannot flatten " + x.str() + " from axis " + std::to_string(start) +
                    ": the flattened dimensions " + shapeStr(tail) + " mix the symbolic " +
                    symbols[0].str() + " with others (the product is not a dimension)");
  return TensorType{x.dtype, out};
}

TensorType concatType(const OpCall &c) {
  const TensorType &x0 = c.inputs[0];
  int64_t axis = rules::normalizeAxis("concat", c.intAttr("axis"), x0.rank());
  for (size_t i = 1; i < c.inputs.size(); ++i) {
    const TensorType &xi = c.inputs[i];
    std::string which = "input " + std::to_string(i) + " " + xi.str();
    if (xi.dtype != x0.dtype)
      throw TypeError("concat: dtypes differ: " + which + ", input 0 " + x0.str() +
                      " (insert a cast)");
    if (xi.rank() != x0.rank())
      throw TypeError("concat: ranks differ: " + which + " has rank " + std::to_string(xi.rank()) +
                      ", input 0 " + x0.str() + " has rank " + std::to_string(x0.rank()));
    for (size_t d = 0; d < x0.rank(); ++d)
      if (static_cast<int64_t>(d) != axis && xi.shape[d] != x0.shape[d])
        throw TypeError("concat: " + which + " differs from input 0 " + x0.str() +
                        " in dimension " + std::to_string(d) + " (" + xi.shape[d].str() + " vs " +
                        x0.shape[d].str() + "); only axis " + std::to_string(axis) + " may differ");
  }
  if (c.inputs.size() == 1)
    return x0;
  int64_t total = 0;
  for (const TensorType &xi : c.inputs) {
    const Dim &d = xi.shape[axis];
    if (d.isSymbolic())
      throw TypeError("concat: cannot concatenate along the symbolic dimension " + d.str() +
                      " (axis " + std::to_string(axis) + " of " + xi.str() +
                      "); the result would be a sum of sizes");
    if (d.value > kMaxElements - total)
      throw TypeError("concat: the result has more than 2^48 elements along axis " +
                      std::to_string(axis));
    total += d.value;
  }
  Shape out = x0.shape;
  out[axis] = total;
  return TensorType{x0.dtype, rules::checkElements("concat", out)};
}

// slice: [begin, end) along one known axis; negative indices count from the end as
// in Python, but out-of-range indices are an error rather than clamped.
TensorType sliceType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  int64_t axis = rules::normalizeAxis("slice", c.intAttr("axis"), x.rank());
  const Dim &d = x.shape[axis];
  std::string where = "axis " + std::to_string(axis) + " of " + x.str();
  if (d.isSymbolic())
    throw TypeError("slice: cannot slice the symbolic dimension " + d.str() + " (" + where + ")");
  int64_t n = d.value;
  auto index = [&](const char *what) {
    int64_t v = c.intAttr(what);
    if (v < -n || v > n)
      throw TypeError(std::string("slice: ") + what + " " + std::to_string(v) +
                      " is out of range for " + where + " (extent " + std::to_string(n) + ")");
    return v < 0 ? v + n : v;
  };
  int64_t begin = index("begin");
  int64_t end = index("end");
  if (begin >= end)
    throw TypeError("slice: empty slice: begin " + std::to_string(begin) + " >= end " +
                    std::to_string(end) + " on " + where);
  Shape out = x.shape;
  out[axis] = end - begin;
  return TensorType{x.dtype, out};
}

} // namespace

void registerShapeOps(OpRegistry &r) {
  OpDef reshapeDef{"reshape",
                   "shape",
                   {"x"},
                   false,
                   {{"shape", AttrType::IntList, std::nullopt,
                     "the new shape; one -1 takes the leftover extent (or the input's symbolic "
                     "dim)"}},
                   reshapeType,
                   rules::perOutputElement(0),
                   FusionKind::Injective,
                   "same elements, new shape"};
  reshapeDef.identityWhenSameType = true;
  reshapeDef.reshapes = true;
  r.add(std::move(reshapeDef));
  OpDef flattenDef{"flatten",
                   "shape",
                   {"x"},
                   false,
                   {{"start_axis", AttrType::Int, Attr::ofInt(1),
                     "dims from this axis on are multiplied into one"}},
                   flattenType,
                   rules::perOutputElement(0),
                   FusionKind::Injective,
                   "merges the dims from start_axis on into one"};
  flattenDef.identityWhenSameType = true;
  flattenDef.reshapes = true;
  r.add(std::move(flattenDef));
  OpDef concatDef{"concat",
                  "shape",
                  {"x"},
                  true,
                  {{"axis", AttrType::Int, Attr::ofInt(0), "the axis the inputs are joined along"}},
                  concatType,
                  rules::perOutputElement(0),
                  FusionKind::Injective,
                  "joins its inputs along axis; all other dims and dtypes equal"};
  concatDef.identityWhenSameType = true;
  r.add(std::move(concatDef));
  OpDef sliceDef{"slice",
                 "shape",
                 {"x"},
                 false,
                 {{"axis", AttrType::Int, std::nullopt, "the axis to cut"},
                  {"begin", AttrType::Int, std::nullopt,
                   "first index kept (negative: from the end)"},
                  {"end", AttrType::Int, std::nullopt, "one past the last index kept"}},
                 sliceType,
                 rules::perOutputElement(0),
                 FusionKind::Injective,
                 "x[.., begin:end, ..] along axis; indices out of range are an error"};
  sliceDef.identityWhenSameType = true;
  r.add(std::move(sliceDef));
}

} // namespace nng
