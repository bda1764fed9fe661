// Gradient checkpointing (Chen et al. 2016) as a rewrite of a training graph: the
// forward pass is cut into segments; activations inside a segment are not kept for
// the backward pass but recomputed, just before the first backward node that reads
// them, from the segment's boundaries (which are kept). The recompute nodes repeat
// the forward nodes (same op, attributes and inputs), so losses and gradients are
// bit-identical; they carry the note "recompute of <name>".
//
// The same planning answers `nng stats --mem-budget`: which segments fit a budget at
// the least recompute, or how much is missing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/passes/pass.h"

namespace nng {

// `--checkpoint` (sqrt) or `--checkpoint=budget:SIZE`.
struct CheckpointSpec {
  enum class Kind { Sqrt, Budget };
  Kind kind = Kind::Sqrt;
  int64_t budgetBytes = 0; // for Budget

  static CheckpointSpec sqrt() { return CheckpointSpec{}; }
  static CheckpointSpec budget(int64_t bytes) { return CheckpointSpec{Kind::Budget, bytes}; }
};

// Parses "sqrt" or "budget:SIZE", SIZE being plain bytes ("65536") or a number with a
// unit B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB, powers of 1000), case-insensitive:
// "budget:512KiB", "budget:64MiB", "budget:1.5GiB". Throws UserError naming the
// problem otherwise (an unknown unit, a zero or negative size).
CheckpointSpec parseCheckpointSpec(const std::string &spec);

// A choice of segments and what it costs. Memory is the activation memory of the
// training step: the peak, over the node order, of the bytes of node outputs alive at
// once (a value lives from its producer to its last consumer; outputs and the loss to
// the end), with every symbolic dimension bound to the batch. Inputs, params and
// buffers, parameter gradients (grad.P) and in-place update outputs are not
// activations (`nng stats` counts them elsewhere).
struct CheckpointPlan {
  bool hasBackward = false; // false: the graph has no gradients; nothing else is set
  bool fits = true;         // activationBytes <= the budget (always true for sqrt)
  int segments = 1;         // forward segments; 1 means no checkpointing
  int64_t baselineBytes = 0;   // activation memory without checkpointing
  int64_t activationBytes = 0; // activation memory with this plan
  int64_t missingBytes = 0;    // when !fits: activationBytes - budget of the best plan
  double forwardFlops = 0;     // FLOPs of the forward nodes at the batch
  double recomputeFlops = 0;   // extra FLOPs: the recomputed nodes at the batch
  int recomputedNodes = 0;
  // The first forward node of every segment but the first (ids in the planned graph);
  // what applyCheckpoint needs.
  std::vector<NodeId> boundaries;
};

// Chooses segments for `g` (which must have gone through autodiff to gain anything):
//   sqrt:   about sqrt(n) segments of the n forward nodes, of about equal bytes;
//   budget: the plan of least recompute whose activation memory fits the budget
//           (no checkpointing at all when the graph fits as it is); when none fits,
//           fits = false with the smallest activation memory found and what it misses.
// Cuts are placed where the fewest bytes cross from one segment to the next (between
// the blocks of a residual network). O(n log n) in the number of nodes.
CheckpointPlan planCheckpoint(const Graph &g, const CheckpointSpec &spec, int64_t batch);

// Rewrites `g` by `plan` (from planCheckpoint on the same graph). Returns false when
// the plan recomputes nothing. Explains declined recomputes (random ops, nodes that
// update state) into `ctx` when given.
bool applyCheckpoint(Graph &g, const CheckpointPlan &plan, PassContext *ctx = nullptr);

// The activation memory of `g` as it stands (the measure CheckpointPlan uses).
int64_t activationPeakBytes(const Graph &g, int64_t batch);

} // namespace nng
