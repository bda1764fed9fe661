// A Schedule: the order a backend runs a graph's nodes in and, with several
// streams, which stream runs each node and which cross-stream edges it waits on.
#pragma once

#include <cstdint>
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

// What any schedule of `g` must keep, per node (sorted, no duplicates, all earlier in
// graph order): the producers of its inputs and, around every op that writes a buffer
// besides its output (in-place optimizer updates, the running statistics of a stateful
// op), the other accesses of that buffer in the order the graph has them (readers
// before the write stay before it, later readers stay after).
std::vector<std::vector<NodeId>> scheduleDependencies(const Graph &g);

// The FLOPs of every node (the op registry's rule) with symbolic dimensions bound to
// `batch`; 0 for an op without a rule.
std::vector<double> nodeFlops(const Graph &g, int64_t batch);

// Assigns the nodes to at most `streams` streams (>= 1) so that independent branches
// run concurrently. A greedy list schedule in graph order, simulated with each node
// costing its FLOPs at `batch`: a node goes to the stream where it could start first,
// preferring the stream of a node it depends on, so a chain stays on one stream and a
// branch starts on the least-loaded one. Streams are numbered by first use and
// `streams` counts those used. Every stream runs its nodes in graph order (so `order`
// is the graph's); `waits` holds only the cross-stream dependencies not already implied
// by earlier waits: at most one per other stream, on the latest node needed there.
// O(n * streams + edges).
Schedule scheduleStreams(const Graph &g, int streams, int64_t batch = 1);

// The schedule that runs node i on stream[i] (any non-negative numbers; renumbered by
// first use), each stream in graph order, with waits pruned as scheduleStreams does.
// For tests and for assignments made elsewhere.
Schedule scheduleOnStreams(const Graph &g, const std::vector<int> &stream);

// What a schedule achieves, in FLOPs at a batch size.
struct ScheduleReport {
  int streams = 1;
  double totalFlops = 0;           // the work of every node
  double criticalPathFlops = 0;    // the heaviest dependency path
  double parallelism = 1;          // total / critical path: what any schedule can reach
  double makespanFlops = 0;        // this schedule's length when each node costs its FLOPs
  double achieved = 1;             // total / makespan: the parallelism this schedule reaches
  int64_t waits = 0;               // cross-stream waits
  std::vector<double> streamFlops; // the work of each stream
};

ScheduleReport analyzeSchedule(const Graph &g, const Schedule &s, int64_t batch);

} // namespace nng
