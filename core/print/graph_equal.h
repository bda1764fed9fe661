// Structural graph equality for round-trip tests (print then parse, JSON out and in).
// Values are compared through the names the printers give them, never by ValueId, so two
// graphs built in a different order, or with a temporary named t0 in one and unnamed in
// the other, are the same graph when they print the same.
#pragma once

#include <string>

#include "core/ir/graph.h"

namespace nng {

// True when `a` and `b` have the same model name; the same inputs (name, type) and params
// and buffers (kind, name, type, initializer) in order; the same nodes in order (op, output
// name and type, input names, attributes); the same outputs and loss. Otherwise false, and
// `why` (when not null) describes the first difference, e.g.
// "node 2 (h = relu): op relu vs sigmoid"; it is cleared when the graphs are the same.
// Locations and call chains are not compared.
bool sameGraph(const Graph &a, const Graph &b, std::string *why = nullptr);

} // namespace nng
