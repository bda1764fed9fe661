// Shared type rules used by several op families: numpy broadcasting, axis
// normalization, dtype checks and FLOP helpers.
#pragma once

#include <string>

#include "core/ops/registry.h"

namespace nng::rules {

// Numpy broadcasting of two shapes. Symbolic dims broadcast with 1 and with the
// same symbol; a symbol against a different extent is an error (it cannot be
// checked statically). Throws TypeError naming `op`.
Shape broadcast(const std::string &op, const Shape &a, const Shape &b);

// Maps a possibly negative axis into [0, rank); throws TypeError when out of range.
int64_t normalizeAxis(const std::string &op, int64_t axis, size_t rank);

// Both operands must have the same dtype; returns it.
DType sameDType(const std::string &op, const TensorType &a, const TensorType &b);
void requireFloat(const std::string &op, const TensorType &t, const std::string &what);
void requireInteger(const std::string &op, const TensorType &t, const std::string &what);
void requireRank(const std::string &op, const TensorType &t, size_t rank, const std::string &what);

// Element count with symbols bound to `batch`, as a double (FLOP arithmetic).
double elements(const TensorType &t, int64_t batch);

// Type rule: the output has the first input's type.
TensorType sameAsFirst(const OpCall &c);
// FLOP rule: `perElement` operations per output element.
FlopsFn perOutputElement(double perElement);

} // namespace nng::rules
