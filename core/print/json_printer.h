// The JSON form of a Graph (schema: docs/json.md), for tools outside nng: `nng print
// --format json` writes it and readJson reads it back, so printJson(readJson(printJson(g)))
// equals printJson(g). The layout is fixed: keys in schema order, a 2-space indent, one
// line per value and per node. Value names are the nn printer's (temporaries as t0, t1,
// ...), so the JSON and nn views of a graph agree.
#pragma once

#include <string>

#include "core/ir/graph.h"

namespace nng {

// The graph as an "nng-graph" version 1 JSON document, ending with a newline.
std::string printJson(const Graph &g);

// Rebuilds a graph from printJson's output. Values keep their ids, kinds, names (printed
// temporaries become named values), types, initializers and locations; nodes their ops,
// inputs, attributes, locations and call chains. Malformed JSON and schema violations throw
// UserError naming the offending key path ("values[3].shape[1]: ..."). The result is not
// verified: ops and types are checked by verify(), as for any loaded graph.
Graph readJson(const std::string &text);

} // namespace nng
