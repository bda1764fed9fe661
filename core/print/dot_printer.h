// The DOT printer: a Graph as a Graphviz digraph (`nng print --format dot | dot -Tsvg`).
// One vertex per value, named as the nn printer names it: inputs are ellipses, params and
// buffers filled boxes (grey and yellow), nodes rounded boxes labelled with their op, type
// and attributes; outputs and the loss get a double border. Edges carry the tensor type.
// Deterministic, so it can be golden-tested.
#pragma once

#include <string>

#include "core/ir/graph.h"

namespace nng {

std::string printDot(const Graph &g);

// `s` as a DOT quoted string: quotes and backslashes escaped, newlines as \n.
std::string dotQuote(const std::string &s);

} // namespace nng
