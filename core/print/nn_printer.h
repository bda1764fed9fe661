// The nn printer: a Graph as flat-form nng source, the text `nng print`, `nng grad` and
// `nng optimize` write and the parser reads back into the same graph. The output is
// deterministic (graph order, sorted attributes, no addresses) so golden tests can compare
// it byte for byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace nng {

// The name every value prints under, indexed by ValueId. Named values keep their names;
// unnamed ones (temporaries) get t0, t1, ... in print order (inputs, params and buffers,
// then nodes), skipping every name the graph already uses. The DOT and JSON printers use
// the same names so the three views of one graph agree.
std::vector<std::string> printedNames(const Graph &g);

// What printedNames numbers, without building a string: k for a temporary printed as
// "tk", -1 for a named value, indexed by ValueId. For callers that want a few names on
// demand (a pass's --explain notes) on a graph too large to name every value.
std::vector<int64_t> temporaryNumbers(const Graph &g);

// k when `name` is "tk", a name printedNames can give a temporary ("t0", "t17"; not "t01"),
// else nullopt. Only such names can collide with a temporary's.
std::optional<int64_t> temporaryNumber(const std::string &name);

// The model name the printers write: the graph's name, or "main" when it has none (an
// empty name would not parse back).
std::string printedModelName(const Graph &g);

// The flat form:
//   model NAME {
//     input x: f32[N, 784];
//     param fc1.weight: f32[784, 512] = he_normal;
//     buffer bn.running_mean: f32[16] = zeros;
//     t0: f32[N, 512] = matmul(x, fc1.weight);
//     h: f32[N, 512] = leaky_relu(t0, alpha = 0.01);
//     output h;
//     minimize loss;
//   }
// Inputs, then params and buffers, then nodes, each in graph order; then the outputs and
// the loss. Every node prints all its attributes, sorted by name.
std::string printNn(const Graph &g);

} // namespace nng
