// Memory planning: where every activation of one step lives in a single arena.
//
// Stages (memory_plan.cpp):
//  1. Liveness over the schedule: a value lives from its producer to its last
//     consumer; graph outputs, the loss and `keepAlive` values live to the end of the
//     step. Inputs, params and buffers are not in the arena.
//  2. In place: a node writes its output over input i when the op allows it
//     (OpDef::mayOverwrite), the input has the output's type, and nothing reads the
//     input later. Ops that update an input by definition (OpDef::inplace) always
//     share it. Values that share bytes form one storage with one lifetime.
//  3. Offsets: each storage is placed greedily by size (largest first, into the
//     best-fitting gap among the placed storages whose lifetimes overlap, else above
//     the highest of them), and also best-fit in schedule order; the smaller arena
//     wins. Both are O(n log n) for chains. Greedy by size looks at every pair of
//     overlapping storages; where there are more than 2 million (training graphs of
//     more than about 2000 storages) only the in-order layout is made.
//
// Several streams (Schedule::streams > 1): nodes of different streams may run at the
// same time, so sharing is restricted to what one stream orders. A storage whose
// producers and consumers are all on one stream is planned in that stream's region,
// with the stream's own order; any other storage gets bytes nobody else uses. In place
// needs the input's producer and consumers on the node's stream. Regions are laid out
// one after another, stream 0 first, then the shared storages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/plan/schedule.h"

namespace nng {

// Every storage's size is rounded up to this, so every offset is a multiple of it.
constexpr size_t kArenaAlignment = 64;

struct MemoryPlan {
  // Per ValueId: the value's byte offset in the arena; -1 for values outside it
  // (inputs, params, buffers, and in-place updates of those).
  std::vector<int64_t> offset;
  // Per ValueId: the input whose bytes the value overwrites (planned in place, or an
  // op that updates its input, OpDef::inplace); kNone otherwise.
  std::vector<ValueId> inPlaceOf;
  size_t arenaBytes = 0; // the arena's size
  size_t lowerBound = 0; // the most bytes live at once over the schedule order
  size_t naiveBytes = 0; // one buffer per activation, nothing shared, nothing in place
  int inPlaceCount = 0;  // values planned in place (OpDef::mayOverwrite)
  std::string strategy;  // the placement that gave the arena: "greedy by size", "in order"
};

struct MemoryPlanOptions {
  // Values read after a run that would otherwise die earlier (the trainer's logits
  // when they are not an output): they live to the end of the step.
  std::vector<ValueId> keepAlive;
  bool inPlace = true; // plan OpDef::mayOverwrite sharing
};

// Plans `g` run in `schedule`'s order; `bytes` holds every value's size (valueBytes).
// Sizes are rounded up to kArenaAlignment first; all three totals count rounded sizes.
MemoryPlan planMemory(const Graph &g, const Schedule &schedule, const std::vector<size_t> &bytes,
                      const MemoryPlanOptions &options = {});

// Every value's size in bytes with each symbolic dimension bound from `dims` (a
// symbol missing there is a UserError), at `bytesPerElement(dtype)` per element
// (Backend::storageBytes, or dtypeSize).
std::vector<size_t> valueBytes(const Graph &g, const std::map<std::string, int64_t> &dims,
                               const std::function<size_t(DType)> &bytesPerElement = dtypeSize);
// The same with every symbolic dimension bound to `batch` (what passes and nng stats
// use: PassOptions::batch, --batch).
std::vector<size_t>
valueBytesAtBatch(const Graph &g, int64_t batch,
                  const std::function<size_t(DType)> &bytesPerElement = dtypeSize);

// The placement behind planMemory, on its own: `bytes` (already aligned) live over
// the positions [first, last]; two items may share bytes only when their ranges are
// disjoint. Returns each item's offset and the total.
struct ArenaItem {
  int32_t first = 0, last = 0;
  size_t bytes = 0;
};
struct ArenaLayout {
  std::vector<size_t> offset;
  size_t bytes = 0;
  std::string strategy;
};
ArenaLayout placeItems(const std::vector<ArenaItem> &items);

// The most bytes live at once: max over positions of the sum of live items' bytes.
size_t liveBytesPeak(const std::vector<ArenaItem> &items);

} // namespace nng
