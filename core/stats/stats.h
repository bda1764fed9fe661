// What `nng stats` measures about a graph: parameters, FLOPs per step split into
// forward, backward and optimizer update, a per-node table, and memory (parameters,
// gradients, optimizer state, activations with and without planning and with
// checkpointing). The numbers are computed here; cli/stats.cpp only loads the model,
// runs the pass flags and prints what statsText / statsJson return.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/data/config.h"
#include "core/diag/units.h" // formatBytes, parseByteSize: the sizes stats prints and reads
#include "core/ir/graph.h"

namespace nng {

// Which part of a training step a node belongs to.
enum class Phase { Forward, Backward, Update };
const char *phaseName(Phase p); // "forward", "backward", "update"

// The phase of every node, by NodeId. The rule holds for graphs straight from autodiff
// and for printed ones parsed back (where no node says where the backward begins):
//   update:   the op updates an input in place (OpDef::inplace, sgd_update/adam_update);
//   forward:  the node is an ancestor of the loss or of an output that is not a
//             parameter gradient (`grad.P`), or the node itself;
//   backward: the rest that a parameter gradient depends on (the seed d(loss) = 1, the
//             gradient nodes, recomputations from checkpointing);
//   any other (dead) node is backward when one of its inputs is, else forward.
std::vector<Phase> classifyNodes(const Graph &g);

// Bytes of a value with every symbolic dimension bound to `batch`. UserError when
// the tensor is too large to count.
int64_t tensorBytes(const TensorType &t, int64_t batch);

// "950", "12.3 K", "137.6 M", "4.2 G", "1.1 T": FLOP counts, decimal units, one decimal.
std::string formatFlops(double flops);

struct TensorTotals {
  int64_t tensors = 0;
  int64_t elements = 0;
  int64_t bytes = 0;
};

struct NodeStats {
  NodeId id = kNone;
  std::string name; // as the nn printer names the output (temporaries t0, t1, ...)
  std::string op;
  TensorType type; // as declared, with symbols
  Phase phase = Phase::Forward;
  double flops = 0;  // at the batch
  int64_t bytes = 0; // of the output, at the batch
  SourceLoc loc;
  std::string note; // what a pass said about the node ("recompute of t7")
};

// Where the optimizer of the training step came from, for the output.
// Graph: the graph already holds its update nodes (their state is among its buffers).
enum class OptimizerSource { Flag, Config, Assumed, Graph };

struct StatsOptions {
  int64_t batch = 1; // bound to every symbolic dimension
  // Analyze the training step: parameter gradients and optimizer state. Set by the
  // caller for --train, or because the graph already has gradients.
  bool train = false;
  OptimizerConfig optimizer; // the state the update keeps (train only)
  OptimizerSource optimizerSource = OptimizerSource::Assumed;
  std::string optimizerOrigin; // the config file, for Config
  // Checkpointing figures (train only): the spec of --checkpoint ("sqrt" when not
  // given), and the training graph before the checkpoint pass when the pipeline ran it
  // (nullptr: the measured graph itself is the one before).
  std::string checkpointSpec = "sqrt";
  const Graph *beforeCheckpoint = nullptr;
  std::optional<int64_t> memBudget; // --mem-budget, bytes (train only)
  int streams = 1;                  // > 1: plan the arena over the parallel schedule (--streams)
};

struct OptimizerStats {
  std::string name; // "sgd", "adam", "adamw"; "" for OptimizerSource::Graph
  OptimizerSource source = OptimizerSource::Assumed;
  std::string origin;      // the config file, for Config
  int buffersPerParam = 0; // state tensors per parameter with a gradient
  int64_t stateBytes = 0;  // every buffer the update adds (with the lr and step scalars)
  double updateFlops = 0;  // the update nodes' FLOPs
};

// With --streams N: what the parallel schedule (core/plan/schedule.h) achieves.
struct ScheduleStats {
  int streams = 1; // streams used
  double criticalPathFlops = 0;
  double parallelism = 1; // total / critical path: the most any schedule reaches
  double achieved = 1;    // total / this schedule's makespan
  int64_t waits = 0;      // cross-stream waits
};

// The arena of one step as the memory planner (core/plan/memory_plan.h) lays it out
// over the schedule (the graph's node order, or the parallel one with --streams): every
// node output (activations, and in a training step the gradients) rounded up to
// kArenaAlignment; inputs, params, buffers and in-place updates live outside it.
struct ArenaStats {
  int64_t naive = 0;      // every node output its own buffer
  int64_t planned = 0;    // the planned arena
  int64_t lowerBound = 0; // the most bytes live at once
  int inPlace = 0;        // values planned over one of their inputs
  std::string strategy;   // the placement that won
};

// Activations kept for the backward pass (core/passes/checkpoint.h's measure: the peak
// of node outputs alive at once, parameter gradients excluded) without and with
// gradient checkpointing, on the training graph before the checkpoint pass.
struct CheckpointStats {
  std::string spec;            // "sqrt" or "budget:SIZE", as given
  int segments = 1;            // 1: nothing is recomputed
  int64_t baselineBytes = 0;   // without checkpointing
  int64_t activationBytes = 0; // with it
  double forwardFlops = 0;     // of the forward nodes, for the recompute ratio
  double recomputeFlops = 0;   // extra FLOPs of the recomputed nodes
  int recomputedNodes = 0;
  int64_t arenaBytes = 0; // the planned arena of the checkpointed graph
};

// --mem-budget: the budget covers the whole step by the checkpoint measure: the fixed
// part (parameters, buffers, gradients, optimizer state, inputs) plus the activation
// peak. What is left after the fixed part is the activation budget the checkpoint
// planner gets.
struct BudgetStats {
  int64_t budget = 0;
  int64_t fixedBytes = 0;
  int64_t activationBudget = 0; // budget - fixedBytes; <= 0 when the fixed part fills it
  bool fits = false;
  int segments = 1;            // of the chosen plan (the smallest one when none fits)
  int64_t activationBytes = 0; // its activation peak
  int64_t missingBytes = 0;    // when !fits: what the budget lacks for the best plan
  double recomputeFlops = 0;
  int recomputedNodes = 0;
};

struct ModelStats {
  std::string model;
  int64_t batch = 1;
  bool train = false;              // gradients and optimizer state are part of the step
  std::vector<std::string> passes; // the pipeline that ran, canonical order (set by the caller)
  TensorTotals params, buffers, inputs;
  TensorTotals gradients;                  // the values grad.P of the parameters that have one
  std::optional<OptimizerStats> optimizer; // train only
  double forwardFlops = 0, backwardFlops = 0;
  std::vector<NodeStats> nodes;
  std::optional<ScheduleStats> schedule; // with StatsOptions::streams > 1
  ArenaStats arena;
  // Training graphs only; `checkpointNote` says why it is absent otherwise.
  std::optional<CheckpointStats> checkpoint;
  std::string checkpointNote;
  std::optional<BudgetStats> budget; // with StatsOptions::memBudget

  double updateFlops() const { return optimizer ? optimizer->updateFlops : 0; }
  double totalFlops() const { return forwardFlops + backwardFlops + updateFlops(); }
  // Parameters, buffers, gradients and optimizer state: what a step needs besides its
  // inputs and activations (the fixed part of --mem-budget, with the inputs).
  int64_t persistentBytes() const;
  // What one step allocates with the planned arena: parameters, buffers, optimizer
  // state, inputs and the arena (which holds the gradients).
  int64_t plannedStepBytes() const;
};

// Measures `g` (after whatever passes the caller ran). With `o.train` the graph must
// hold its gradients (hasGradients); the optimizer state comes from appending the
// update nodes of `o.optimizer` to a copy, as the trainer does. Throws UserError for a
// training step without gradients, or a checkpoint spec that does not parse.
ModelStats computeStats(const Graph &g, const StatsOptions &o);

// The report `nng stats` prints: a summary, the per-node table and the memory.
std::string statsText(const ModelStats &s);

// The same as one JSON object (keys documented in docs/cli.md, `nng stats`), raw
// numbers: bytes and FLOPs unformatted, unavailable figures null with a reason.
std::string statsJson(const ModelStats &s);

} // namespace nng
