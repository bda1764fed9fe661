// Shared type rules used by several op families: numpy broadcasting, axis
// normalization, dtype checks and FLOP helpers.
#pragma once

#include <string>

#include "core/ops/registry.h"

namespace nng::rules {

// Numpy broadcasting of two shapes. Symbolic dims broadcast with 1 and with the
// same symbol; a symbol against a different extent is an error (it cannot be
// checked statically). Throws TypeError naming `op`, also when the result has more
// than kMaxElements elements.
Shape broadcast(const std::string &op, const Shape &a, const Shape &b);
// The same without throwing: false, with `conflict` set to e.g. "3 vs 4", when the
// shapes do not broadcast. Callers that want their own wording use this one.
bool tryBroadcast(const Shape &a, const Shape &b, Shape &out, std::string &conflict);

// Throws unless the known dims of `s` multiply to at most kMaxElements (symbols
// count as 1: their run-time value is checked when it is bound). Returns `s`.
Shape checkElements(const std::string &op, Shape s);
// a * b, or a TypeError naming `op` and `what` past kMaxElements.
int64_t mulChecked(const std::string &op, int64_t a, int64_t b, const std::string &what);

// Maps a possibly negative axis into [0, rank); throws TypeError when out of range.
int64_t normalizeAxis(const std::string &op, int64_t axis, size_t rank);

// Both operands must have the same dtype; returns it.
DType sameDType(const std::string &op, const TensorType &a, const TensorType &b);
void requireFloat(const std::string &op, const TensorType &t, const std::string &what);
void requireInteger(const std::string &op, const TensorType &t, const std::string &what);
void requireRank(const std::string &op, const TensorType &t, size_t rank, const std::string &what);

// Element count with symbols bound to `batch`, as a double (FLOP arithmetic).
double elements(const TensorType &t, int64_t batch);
// One dimension with symbols bound to `batch`.
double dimValue(const Dim &d, int64_t batch);

// Type rule: the output has the first input's type.
TensorType sameAsFirst(const OpCall &c);
// FLOP rule: `perElement` operations per output element.
FlopsFn perOutputElement(double perElement);
// FLOP rule: `perElement` operations per element of the first input (reductions).
FlopsFn perInputElement(double perElement);
// The FLOPs one element of a registered elementwise op costs (its rule applied to a
// scalar); fused ops price their epilogues with it so the numbers stay consistent.
double elementwiseCost(const std::string &op);

// [.., M, K] @ [.., K, N] -> [.., M, N] with numpy broadcasting of the batch dims;
// both operands float, rank >= 2, same dtype. Shared by matmul and fused_dense.
TensorType matmulType(const std::string &op, const TensorType &a, const TensorType &b);
// logits f[N, C] with integer labels [N] -> a scalar of the logits dtype. Shared by
// cross_entropy and softmax_cross_entropy.
TensorType crossEntropyType(const std::string &op, const TensorType &logits,
                            const TensorType &labels);
// Their FLOPs: log_softmax (8 per logit) plus picking and averaging one value per row.
double crossEntropyFlops(const OpCall &c, const TensorType &out, int64_t batch);

} // namespace nng::rules
