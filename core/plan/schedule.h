// A Schedule: the order a backend runs a graph's nodes in and, with several
// streams, which stream runs each node and which cross-stream edges it waits on.
#pragma once

#include <vector>

#include "core/ir/graph.h"

namespace nng {

struct Schedule {
  int streams = 1;
  std::vector<NodeId> order;              // a topological order: the sequential run order
  std::vector<int> stream;                // per NodeId: its stream, 0..streams-1
  std::vector<std::vector<NodeId>> waits; // per NodeId: nodes on other streams to wait for
};

// One stream, the graph's own node order.
Schedule sequentialSchedule(const Graph &g);

} // namespace nng
