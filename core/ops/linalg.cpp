// Linear-algebra ops: matmul (2-D and batched, numpy batch broadcasting) and transpose.
#include <vector>

#include "core/ops/families.h"
#include "core/ops/rules.h"

namespace nng {

namespace {

// perm = [] means "reverse the axes" (the attribute default cannot depend on the rank).
std::vector<int64_t> permutation(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  std::vector<int64_t> perm = c.intsAttr("perm");
  if (perm.empty()) {
    for (size_t i = x.rank(); i-- > 0;)
      perm.push_back(static_cast<int64_t>(i));
    return perm;
  }
  if (perm.size() != x.rank())
    throw TypeError("transpose: perm " + c.attrs.at("perm").str() + " has " +
                    std::to_string(perm.size()) + " entries, but " + x.str() + " has rank " +
                    std::to_string(x.rank()));
  std::vector<bool> seen(x.rank(), false);
  for (int64_t &p : perm) {
    p = rules::normalizeAxis("transpose", p, x.rank());
    if (seen[p])
      throw TypeError("transpose: perm " + c.attrs.at("perm").str() +
                      " is not a permutation: axis " + std::to_string(p) + " appears twice");
    seen[p] = true;
  }
  return perm;
}

TensorType transposeType(const OpCall &c) {
  const TensorType &x = c.inputs[0];
  Shape out;
  for (int64_t p : permutation(c))
    out.push_back(x.shape[p]);
  return TensorType{x.dtype, out};
}

} // namespace

void registerLinalgOps(OpRegistry &r) {
  r.add(OpDef{"matmul",
              "linalg",
              {"a", "b"},
              false,
              {},
              [](const OpCall &c) { return rules::matmulType("matmul", c.inputs[0], c.inputs[1]); },
              [](const OpCall &c, const TensorType &out, int64_t batch) {
                const TensorType &a = c.inputs[0];
                // 2*M*N*K per batch element; the output holds batch*M*N elements.
                return 2 * rules::elements(out, batch) * rules::dimValue(a.shape.back(), batch);
              },
              FusionKind::MatmulLike,
              "[.., M, K] @ [.., K, N] -> [.., M, N]; batch dims broadcast as numpy"});

  OpDef transpose{"transpose",
                  "linalg",
                  {"x"},
                  false,
                  {{"perm", AttrType::IntList, Attr::ofList({}),
                    "output axis i is input axis perm[i]; [] reverses the axes"}},
                  transposeType,
                  rules::perOutputElement(0),
                  FusionKind::Injective,
                  "permutes the axes"};
  transpose.permuteAttr = "perm";
  r.add(std::move(transpose));
  // Mixed precision: the matmul is what half precision speeds up.
  r.setPrecision("matmul", OpPrecision::Half);
}

} // namespace nng
